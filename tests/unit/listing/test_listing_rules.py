from dataclasses import replace
from decimal import Decimal

import pytest

from services.listing.listing_rules import (
    POLICY_VIOLATIONS,
    ListingDraft,
    ListingReview,
    ListingRulesConfig,
    Rule,
    RuleBreach,
    check_listing,
    gtin_problem,
    normalize_gtin,
)
from shared.events.common import Condition, FulfillmentChannel, PolicyCategory, Severity


def draft(**changes: object) -> ListingDraft:
    base = ListingDraft(
        seller_sku="MUG-BLUE-01",
        product_id="4006381333931",
        title="Stoneware Coffee Mug, 350 ml, Blue",
        brand="Kiln & Co",
        description="A glazed stoneware mug.<br>Dishwasher and microwave safe.",
        bullet_points=("Holds 350 ml", "Wholesale quality glaze"),
        condition=Condition.NEW,
        price=Decimal("12.50"),
        currency="EUR",
        quantity=40,
        handling_days=2,
        fulfillment_channel=FulfillmentChannel.MERCHANT,
        image_urls=("https://img.example-cdn.com/mug-blue.jpg",),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def rules(review: ListingReview) -> set[Rule]:
    return set(review.rules)


def described(text: str) -> ListingReview:
    return check_listing(draft(description=text))


def test_a_clean_listing_is_accepted():
    review = check_listing(draft())

    assert review.accepted
    assert review.breaches == ()


# --- product id (GTIN) ---


@pytest.mark.parametrize(
    "gtin",
    [
        "96385074",
        "73513537",
        "036000291452",
        "012345678905",
        "4006381333931",
        "9780306406157",
        "10012345678902",
    ],
)
def test_a_gtin_of_each_length_with_a_valid_check_digit_passes(gtin):
    assert gtin_problem(gtin) is None


@pytest.mark.parametrize(
    "gtin",
    ["96385075", "036000291453", "4006381333932", "9780306406158", "10012345678903"],
)
def test_a_gtin_with_a_wrong_check_digit_is_rejected(gtin):
    review = check_listing(draft(product_id=gtin))

    assert review.breaches == (
        RuleBreach(Rule.L9, "product_id", "the product id (GTIN) has a wrong check digit"),
    )


@pytest.mark.parametrize(
    "gtin", ["", "1234567", "123456789", "12345678901", "123456789012345", "40063813339A1"]
)
def test_a_product_id_of_the_wrong_shape_is_rejected(gtin):
    assert rules(check_listing(draft(product_id=gtin))) == {Rule.L9}


def test_an_all_zero_product_id_is_rejected():
    assert gtin_problem("00000000") == "must not be all zeros"


def test_a_upc_and_its_ean_with_a_leading_zero_are_one_product():
    assert normalize_gtin("036000291452") == normalize_gtin("0036000291452") == "00036000291452"


# --- L1: title ---


def test_a_title_of_200_characters_is_accepted():
    assert check_listing(draft(title="Mug " + "a" * 196)).accepted


def test_a_title_of_201_characters_is_rejected():
    review = check_listing(draft(title="Mug " + "a" * 197))

    assert review.breaches == (
        RuleBreach(Rule.L1, "title", "the title must have 1-200 characters, it has 201"),
    )


@pytest.mark.parametrize("title", ["", "   "])
def test_an_empty_title_is_rejected(title):
    assert rules(check_listing(draft(title=title))) == {Rule.L1}


@pytest.mark.parametrize("title", ["STONEWARE COFFEE MUG", "BLUE MUG 350 ML"])
def test_an_all_capitals_title_is_rejected(title):
    assert check_listing(draft(title=title)).breaches == (
        RuleBreach(Rule.L1, "title", "the title must not be all capitals"),
    )


@pytest.mark.parametrize("title", ["4K TV", "USB-C Cable", "Stoneware MUG with LID"])
def test_a_title_with_acronyms_is_not_all_capitals(title):
    assert check_listing(draft(title=title)).accepted


def test_the_title_length_is_a_setting():
    config = ListingRulesConfig(title_max_length=10)

    assert rules(check_listing(draft(title="Blue Mug 350"), config=config)) == {Rule.L1}


# --- L2: promotional claims in the title ---


@pytest.mark.parametrize(
    "title",
    [
        "Coffee Mug - Free Shipping",
        "Coffee Mug Best Seller",
        "Bestseller Coffee Mug",
        "#1 Coffee Mug",
        "Hot Item: Coffee Mug",
        "Coffee Mug SALE",
        "Coffee Mug on sale!",
        "Coffee Mug - Limited Time",
        "Coffee Mug 100% Guaranteed",
    ],
)
def test_a_promotional_claim_in_the_title_is_rejected(title):
    assert Rule.L2 in rules(check_listing(draft(title=title)))


@pytest.mark.parametrize(
    "title",
    [
        "Wholesale Coffee Mugs",
        "Salesman Coffee Mug",
        "Sales Team Coffee Mug",
        "#10 Envelope",
        "Hot Chocolate Mug",
    ],
)
def test_words_that_only_contain_a_banned_phrase_are_not_promotional(title):
    assert check_listing(draft(title=title)).accepted


def test_a_promotional_word_outside_the_title_is_not_an_l2_breach():
    assert described("Perfect for a garage sale or a bake sale.").accepted


def test_an_l2_breach_names_the_claim():
    (breach,) = check_listing(draft(title="Coffee Mug Hot Item")).breaches

    assert breach == RuleBreach(Rule.L2, "title", "promotional claim: 'Hot Item'")


# --- L3: sales-rank claims anywhere ---


@pytest.mark.parametrize(
    "text",
    [
        "Best Seller Rank 1 in Kitchen",
        "Best Sellers Rank: 12",
        "our top seller",
        "the top-selling mug",
        "#1 in Coffee Mugs",
        "#1 on the charts",
        "Number one in kitchenware",
        "BSR 200",
    ],
)
def test_a_sales_rank_claim_anywhere_is_rejected(text):
    assert rules(described(text)) == {Rule.L3}
    assert rules(check_listing(draft(bullet_points=(text,)))) == {Rule.L3}


def test_a_sales_rank_claim_is_a_medium_listing_policy_violation():
    review = described("Top seller in mugs")

    assert review.policy_violations == ((Rule.L3, PolicyCategory.LISTING, Severity.MEDIUM),)


@pytest.mark.parametrize("text", ["top quality glaze", "ranked by colour", "size #2 in the set of 3"])
def test_text_without_a_rank_claim_passes_l3(text):
    assert Rule.L3 not in rules(described(text))


# --- L4: contact details and links ---


@pytest.mark.parametrize(
    "text",
    [
        "Questions? mail shop@example.com",
        "write to first.last+mugs@mail.example.co.uk",
        "kiln [at] example [dot] com",
        "kiln(at)example.de",
        "see https://kiln.example.com/mugs",
        "see http://example.org",
        "visit www.kilnmugs.de",
        "visit kilnmugs.com today",
        "visit KILNMUGS.COM",
        "our shop kiln.example.co.uk",
        "kilnmugs dot com",
    ],
)
def test_an_email_address_or_a_link_is_rejected(text):
    review = described(text)

    assert rules(review) == {Rule.L4}
    assert review.policy_violations == ((Rule.L4, PolicyCategory.LISTING, Severity.MEDIUM),)


@pytest.mark.parametrize(
    "text",
    [
        "call +44 20 7946 0958",
        "+1 (555) 123-4567",
        "+4930123456",
        "0044 20 7946 0958",
        "555-123-4567",
        "555.123.4567",
        "(555) 123-4567",
        "555 123 4567",
        "1-800-555-0199",
        "020 7946 0958",
        "07700 900123",
        "(030) 1234567",
        "call 5551234567",
        "WhatsApp: 015123456789",
        "Tel. 030/1234567",
        "030/1234567",
    ],
)
def test_a_phone_number_in_any_common_form_is_rejected(text):
    assert rules(described(text)) == {Rule.L4}


@pytest.mark.parametrize(
    "text",
    [
        "Net weight 350 g.Net content 350 ml",
        "Fits a 3.5mm jack",
        "Works on 100-240V 50/60Hz",
        "For 2019-2023 models",
        "ISBN 0306406152",
        "Made 01.02.2023",
        "e.g. tea, i.e. hot drinks",
        "Firmware v1.2.3",
        "10 x 20 x 30 cm",
        "Pack of 12",
        "Sizes 36 38 40 42 44",
        "Look at this glaze",
    ],
)
def test_numbers_and_dots_that_are_not_contact_details_pass_l4(text):
    assert described(text).accepted


# --- L5: price, stock and shipping offers ---


@pytest.mark.parametrize(
    "text",
    [
        "In stock now",
        "always in-stock",
        "only 3 left",
        "ships today",
        "Ships within 24 hours",
        "ships same day",
        "only $9.99",
        "€5 cheaper",
        "now 9,99 €",
        "£12",
        "USD 10",
        "12.50 EUR",
        "free delivery",
        "fast shipping",
        "same-day dispatch",
        "next day delivery",
        "20% off",
        "buy one get one",
    ],
)
def test_a_price_stock_or_shipping_offer_in_text_is_rejected(text):
    assert rules(described(text)) == {Rule.L5}


@pytest.mark.parametrize(
    "text",
    ["100% stoneware", "weighs 5 pounds", "model ship in a bottle", "matching stockings", "ships' bell"],
)
def test_text_without_an_offer_passes_l5(text):
    assert described(text).accepted


def test_free_shipping_in_the_title_breaks_l2_and_l5():
    assert rules(check_listing(draft(title="Coffee Mug Free Shipping"))) == {Rule.L2, Rule.L5}


# --- L6: HTML ---


@pytest.mark.parametrize(
    "text", ["<b>bold</b> mug", "<p class='x'>mug</p>", "<a href='x'>mug</a>", "mug<!-- note -->", "<script>"]
)
def test_html_other_than_br_is_rejected(text):
    assert rules(described(text)) == {Rule.L6}


@pytest.mark.parametrize("text", ["one<br>two", "one<br/>two", "one<BR />two", "5 < 10 > 3", "I <3 mugs"])
def test_line_breaks_and_angle_brackets_in_prose_pass_l6(text):
    assert described(text).accepted


def test_an_l6_breach_names_the_tags():
    (breach,) = described("<b>bold</b>").breaches

    assert breach.message == "HTML other than <br>: <b>, </b>"


# --- L7: reviews, testimonials, review requests ---


@pytest.mark.parametrize(
    "text",
    [
        "Please leave a 5-star review",
        "Write us a review!",
        "leave feedback after delivery",
        "give us five stars",
        "please rate this product",
        "Rate us on the marketplace",
        "Testimonials: great mug",
        "rave reviews from buyers",
        "five star ratings",
        "customer reviews agree",
        "Customers say it keeps coffee hot",
        "Rated 4.8/5",
        "4.5 out of 5 stars",
    ],
)
def test_a_review_testimonial_or_review_request_is_rejected(text):
    review = described(text)

    assert rules(review) == {Rule.L7}
    assert review.policy_violations == ((Rule.L7, PolicyCategory.REVIEW, Severity.HIGH),)


@pytest.mark.parametrize(
    "text",
    ["Please review the size chart", "gives instant feedback on temperature", "a five star hotel classic"],
)
def test_text_that_mentions_review_words_without_a_review_passes_l7(text):
    assert described(text).accepted


# --- L8: one detail page per product ---


def test_the_same_product_and_condition_twice_is_a_duplicate():
    review = check_listing(draft(), existing=[("4006381333931", Condition.NEW)])

    assert review.breaches == (
        RuleBreach(Rule.L8, "product_id", "this seller already lists product 4006381333931 in condition new"),
    )


def test_the_same_product_in_another_condition_is_not_a_duplicate():
    assert check_listing(draft(), existing=[("4006381333931", Condition.USED_GOOD)]).accepted


def test_a_upc_duplicates_its_ean_form():
    existing = [("0036000291452", Condition.NEW)]

    assert rules(check_listing(draft(product_id="036000291452"), existing=existing)) == {Rule.L8}


def test_duplicates_may_be_found_by_a_predicate_over_the_normalised_product_id():
    asked: list[tuple[str, Condition]] = []

    def exists(product_id: str, condition: Condition) -> bool:
        asked.append((product_id, condition))
        return True

    assert rules(check_listing(draft(), existing=exists)) == {Rule.L8}
    assert asked == [("04006381333931", Condition.NEW)]


# --- L9: price, quantity, handling days, images ---


@pytest.mark.parametrize(
    "price",
    [Decimal("0"), Decimal("-1"), Decimal("100000"), Decimal("250000"), Decimal("NaN"), Decimal("Infinity")],
)
def test_a_price_that_is_not_above_zero_and_below_the_ceiling_is_rejected(price):
    review = check_listing(draft(price=price))

    assert review.breaches == (RuleBreach(Rule.L9, "price", "the price must be above 0 and below 100000"),)


@pytest.mark.parametrize("price", [Decimal("0.01"), Decimal("99999.99")])
def test_a_price_above_zero_and_below_the_ceiling_is_accepted(price):
    assert check_listing(draft(price=price)).accepted


def test_the_price_ceiling_depends_on_the_category():
    config = ListingRulesConfig(price_ceilings={"kitchen": Decimal("500")})

    assert rules(check_listing(draft(price=Decimal("600"), category="kitchen"), config=config)) == {Rule.L9}
    assert check_listing(draft(price=Decimal("600"), category="jewellery"), config=config).accepted


def test_a_negative_quantity_is_rejected_and_zero_is_accepted():
    assert rules(check_listing(draft(quantity=-1))) == {Rule.L9}
    assert check_listing(draft(quantity=0)).accepted


@pytest.mark.parametrize(("days", "accepted"), [(0, False), (1, True), (30, True), (31, False)])
def test_handling_days_must_be_1_to_30(days, accepted):
    assert check_listing(draft(handling_days=days)).accepted is accepted


def test_the_handling_days_range_is_a_setting():
    config = ListingRulesConfig(handling_days_max=5)

    assert not check_listing(draft(handling_days=6), config=config).accepted


def test_a_listing_without_an_image_is_rejected():
    assert check_listing(draft(image_urls=())).breaches == (
        RuleBreach(Rule.L9, "image_urls", "at least one image is required"),
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://img.example.com/a.jpg",
        "ftp://img.example.com/a.jpg",
        "https://",
        "img.example.com/a.jpg",
        "https://[::1/a.jpg",
        "https://img.example.com/a b.jpg",
    ],
)
def test_an_image_url_that_is_not_https_is_rejected(url):
    review = check_listing(draft(image_urls=("https://img.example.com/ok.jpg", url)))

    assert review.breaches == (RuleBreach(Rule.L9, "image_urls", f"images must be https URLs: {url}"),)


# --- all rules together ---


def test_a_rejection_names_every_broken_rule_with_its_field():
    bad = draft(
        product_id="4006381333932",
        title="BEST SELLER COFFEE MUG",
        description="<b>Top seller</b>, in stock. Call 555-123-4567.",
        bullet_points=("fine", "Please leave a 5-star review"),
        price=Decimal("0"),
        handling_days=0,
        image_urls=("http://img.example.com/a.jpg",),
    )

    review = check_listing(bad, existing=[("4006381333932", Condition.NEW)])

    assert review.rules == tuple(Rule)
    assert {(breach.rule, breach.field) for breach in review.breaches} == {
        (Rule.L1, "title"),
        (Rule.L2, "title"),
        (Rule.L3, "description"),
        (Rule.L4, "description"),
        (Rule.L5, "description"),
        (Rule.L6, "description"),
        (Rule.L7, "bullet_points[1]"),
        (Rule.L8, "product_id"),
        (Rule.L9, "product_id"),
        (Rule.L9, "price"),
        (Rule.L9, "handling_days"),
        (Rule.L9, "image_urls"),
    }
    assert review.policy_violations == (
        (Rule.L3, PolicyCategory.LISTING, Severity.MEDIUM),
        (Rule.L4, PolicyCategory.LISTING, Severity.MEDIUM),
        (Rule.L7, PolicyCategory.REVIEW, Severity.HIGH),
    )


def test_only_l3_l4_and_l7_are_policy_violations():
    assert {rule: policy for rule, policy in POLICY_VIOLATIONS.items() if policy} == {
        Rule.L3: (PolicyCategory.LISTING, Severity.MEDIUM),
        Rule.L4: (PolicyCategory.LISTING, Severity.MEDIUM),
        Rule.L7: (PolicyCategory.REVIEW, Severity.HIGH),
    }
    assert set(POLICY_VIOLATIONS) == set(Rule)


def test_the_brand_is_checked_like_any_text():
    assert rules(check_listing(draft(brand="kilnmugs.com"))) == {Rule.L4}
