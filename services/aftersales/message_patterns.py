"""The compiled patterns behind the seller-message rules (message_rules.py), one group per rule.

Patterns work on folded text (`shared.text.fold`: NFKC, casefolded, no zero-width characters,
look-alike letters folded, accents stripped) and are RE2: linear in the text, never backtracking.
Phrases (`shared.text.phrase`) hold across spaced-out letters and leetspeak and come in English,
German, French, Spanish, Italian, Japanese and Chinese. Words that must appear together are matched
within one sentence (`near`), so a refund in one sentence and a review request in the next are not
read as "a refund for a review". Links, e-mail addresses and phone numbers (M1, M2) come from
`shared.contact`.
"""

from __future__ import annotations

from typing import Final

from shared import review_words as w
from shared.text import AnyOf, any_of, compile_phrases, compile_re2, near, phrase, phrases

# --- M3 marketing, coupons, other products --------------------------------------------------------

_OUR: Final = (
    "our/my/unsere/unseren/unserem/meine/nos/notre/mes/nuestros/nuestras/nuestra/nuestro/i+nostri/le+nostre/nostri"
)
_PRODUCTS: Final = (
    "products/product/items/item/range/ranges/collection/collections/catalog/catalogue/store/shop/storefront/brand"
    "/brands/listings/selection/offers/deals/sales/lines/produkte/artikel/sortiment/shop/produits/articles"
    "/boutique/productos/articulos/tienda/prodotti/articoli/negozio"
)
_NEXT_ORDER: Final = (
    "next/future/upcoming/following order/orders/purchase/purchases/visit/buy",
    "nachste/nachsten/kunftige bestellung/bestellungen/einkauf",
    "prochaine/prochain commande/achat", "proximo/proxima pedido/compra", "prossimo/prossima ordine/acquisto",
    "次回", "下次", "下回",
)
_SALES_WORD: Final = (
    "discount/discounts/off/save/saving/savings/deal/deals/coupon/coupons/voucher/vouchers/credit/reward/rewards"
    "/cheaper/rabatt/gutschein/sparen/reduction/remise/descuento/rebaja/sconto/オフ/割引/折/优惠"
)

MARKETING: Final = AnyOf(
    compile_re2(any_of(
        phrases(
            "coupon/coupons/voucher/vouchers/promo/promotion/promotional/discount/referral code/codes",
            "coupon/coupons/voucher/vouchers/promo",
            "use/enter/apply the/my/our/this/promo/discount code",
            "use/enter/apply code",
            "use/enter/apply ~[a-z]*\\d[a-z0-9]* at/in/during checkout",
            f"more _2 in/at {_OUR} {_PRODUCTS}",
            "~\\d{1,3}\\s*(?:%|percent|per\\s*cent|prozent|pour\\s*cent|por\\s*ciento|per\\s*cento)\\s*" + "off",
            "~[$€£¥]\\s*\\d+(?:[.,]\\d+)?|\\d+\\s*(?:dollars?|euros?|pounds?|usd|eur|gbp) off",
            f"check+out/browse/visit/see/view/explore/discover/shop/look+at/have+a+look+at {_OUR} _2 {_PRODUCTS}",
            f"{_OUR} other {_PRODUCTS}",
            "you might/may/will/would also like/love/enjoy", "also recommend",
            "new arrival/arrivals/collection/collections/products", "latest/similar products",
            "special/exclusive/limited+time offer/offers/deal/deals/discount/discounts/price/prices",
            "flash/clearance/summer/winter/holiday/big sale", "on sale", "buy one get one", "bogo",
            f"subscribe/sign+up to/for {_OUR}", "newsletter", "mailing list",
            "follow/like us on", f"{_OUR} instagram/insta/facebook/tiktok/twitter/youtube/pinterest",
            "buy/order/shop/purchase more from/at our/my/us",
            "more _1 products/items/deals/offers from/at/in our/my",
            "etsy/ebay/shopify/walmart/aliexpress/temu",
            # de, fr, es, it
            "gutscheincode/rabattcode/gutschein", f"schauen sie sich {_OUR} _1 {_PRODUCTS}",
            f"entdecken sie {_OUR} _1 {_PRODUCTS}", "code promo", "bon de reduction",
            f"decouvrez {_OUR} _1 {_PRODUCTS}",
            "codigo promocional/de descuento", "cupon/cupones", f"descubre/visita {_OUR} _1 {_PRODUCTS}",
            "codice sconto/promozionale", "buono sconto", f"scopri/visita i+nostri/le+nostre _1 {_PRODUCTS}",
            # ja, zh
            "クーポン", "割引コード", "プロモーションコード", "他の商品", "ほかの商品", "セール",
            "优惠码", "优惠券", "折扣码", "其他产品", "其他商品", "关注我们",
        ),
        r"\d+\s*折",  # "9折": 10% off
    )),
    compile_re2(near(phrases(*_NEXT_ORDER), phrase(_SALES_WORD))),
)

# --- M4-M8 reviews and feedback -------------------------------------------------------------------

# Every review pattern below needs one of these: without them M4-M8 are skipped (it is cheaper).
MENTIONS_REVIEW: Final = compile_phrases(
    w.REVIEW, w.STARS, "rate/rating/rated/review*/feedback*/bewert*/recension*/calific*/valora*/valut*/avis",
    "think/thought/words",
    "評価", "レビュー", "星", "评", "星",
)
# Review words that are no review ("we will review your return").
NOT_A_REVIEW: Final = compile_phrases(*w.NOT_A_REVIEW)
# A review as a thing, with stars and "rate us".
_REVIEW: Final = phrase(f"{w.REVIEW}/{w.STARS}") + "|" + phrase("rate/rating us/me/uns/nous/nos/ci")
_REQUEST: Final = phrases(*w.REQUEST, "rate")
_INCENTIVE: Final = any_of(
    phrase(w.INCENTIVE),
    # "free" but not "feel free to", "free-standing" or "sugar-free".
    phrase("free/gratis/kostenlos/gratuit/gratuito/無料/免费"),
    r"[$€£¥]\s*\d+|\d+\s*(?:dollars?|euros?|pounds?|usd|eur|gbp|€|円|元|块)",
    r"\d+\s*(?:%|percent)\s*(?:off|discount|back|refund|cash)",
)
_POSITIVE_REVIEW: Final = any_of(
    phrase(f"{w.POSITIVE} {w.REVIEW}/{w.STARS}"),
    phrase(f"{w.FIVE} {w.STARS}"),
    phrase(f"{w.REVIEW} {w.POSITIVE}"),  # "un avis positif", "una recensione positiva"
    phrase(f"{w.STARS} {w.FIVE}"),  # "星5つ"
    r"star\s+star\s+star",  # five star symbols
    r"(?:^|[^0-9])[5五]\s*\*",  # "a 5* review"
    phrase("full/top marks"),
    "高評価|好评|五星|5星",
)
_HAPPY_GATE: Final = any_of(
    phrase(f"if/only+if/wenn/falls/si/se you+are/you+re/you+were/you+feel/you/sie/vous/estas/esta/sei _1 {w.HAPPY}"),
    phrase("if everything/all is/was/went fine/ok/okay/good/great/well/perfect"),
    phrase(f"{w.HAPPY} customers/customer/buyers/buyer/shoppers/kunden/clients/clientes/clienti"),
    "ご満足|満足いただけ|满意",
)
_CONTACT: Final = any_of(
    phrase(f"{w.CONTACT} us/me/uns/nous/nos/ci/noi"),
    phrase("kontaktieren sie uns/mich"),
    phrase("contactez/contacter nous/moi"),
    phrase("contactenos/contactanos/contattaci"),
    phrase("get in touch"), phrase("reach out"),
    "ご連絡|連絡して|連絡を|联系我们|联系我|先联系",
)
_LEAVING: Final = f"{w.LEAVE}/leav*/writ*/post*/giv*/submit*/rat*/add*"
_BEFORE_REVIEW: Final = any_of(
    phrase(f"{w.BEFORE} you/sie/vous/de/di/usted _3 {_LEAVING} _3 {w.REVIEW}/{w.STARS}"),
    phrase(f"{w.BEFORE} _1 {_LEAVING}/review*/rating"),
    phrase(f"{w.BEFORE} _3 {w.REVIEW}"),
    r"(?:レビュー|評価)[^.!?\n]{0,8}前|评价前|评论前|好评前",
)
# "Please don't leave negative feedback": a review only if it is a good one.
_NO_BAD_REVIEW: Final = phrase(
    f"don+t/dont/do+not/never/avoid/bitte+keine/ne+pas/no/non _2 {_LEAVING} _2 {w.NEGATIVE} {w.REVIEW}"
) + "|" + phrase(f"don+t/dont/do+not/never/avoid {w.LEAVE}/leav*/writ*/post*/giv* _2 {w.NEGATIVE}")
_CHANGED: Final = (
    "removed/changed/updated/deleted/revised/edited/amended/withdrawn/retracted/modified/taken+down/raised/upgraded"
    "/geandert/geloscht/entfernt/modifie/supprime/cambiada/eliminada/modificata/rimossa"
)

# "Feel free to leave a review" offers nothing: blanked before M4 looks.
NOT_AN_INCENTIVE: Final = compile_phrases("feel free", "free to", "sugar/hands/bpa/gluten/lactose/duty free")
REVIEW_INCENTIVE: Final = compile_re2(near(_INCENTIVE, _REVIEW))
POSITIVE_REVIEW_REQUEST: Final = AnyOf(
    compile_re2(near(_REQUEST, _POSITIVE_REVIEW)),
    # The gate may end one sentence and the request start the next: "If you are happy. Review us".
    compile_re2(near(_HAPPY_GATE, _REVIEW, stops="\n", ordered=True)),
    compile_re2(near(_REVIEW, _HAPPY_GATE, ordered=True)),
    compile_re2(any_of(
        _NO_BAD_REVIEW,
        phrase(f"{w.LEAVE} us/me {w.FIVE}") + r"[^.!?;\n]{0,3}" + phrase(w.STARS),
        phrase(f"{w.LEAVE} us/me/uns/nous/nos/ci") + r"\s*(?:star\s*){3,}",
    )),
)
CONTACT_BEFORE_REVIEW: Final = AnyOf(
    compile_re2(near(_CONTACT, _BEFORE_REVIEW)),
    compile_re2(near(any_of(_CONTACT, phrase("write to us")),
                     phrase(f"first/zuerst/d+abord/primero/prima not/nicht/pas/no/non _2 {w.REVIEW}"))),
    compile_re2(near(any_of(_CONTACT, phrase("write to us")) + r"[^.!?;\n]{0,10}"
                     + phrase("first/zuerst/d+abord/primero/prima/先"), _REVIEW)),
    compile_re2(near(_CONTACT, _NO_BAD_REVIEW, stops=".!?\n")),  # across a semicolon: "don't ...; contact us"
    compile_re2(near(_CONTACT, phrase("don+t/dont/do+not/not/nicht review/rate/bewerten yet/noch"))),
    compile_re2(near(_CONTACT, phrase(
        f"instead+of/rather+than/statt/au+lieu+de/en+vez+de/invece+di {w.LEAVE}/leav*/writ*/post*/giv* _3 {w.REVIEW}"
    ))),
)
CHANGE_REVIEW: Final = compile_re2(
    any_of(
        phrase(f"{w.CHANGE} _3 {w.REVIEW}"),
        phrase(f"{w.REVIEW} {w.CHANGE}"),
        phrase(f"have/get/having/getting _3 {w.REVIEW} {_CHANGED}"),
        phrase(f"{w.REVIEW} could/can/would/will/might/may/should/to be/been/get/gets/got _1 {_CHANGED}"),
        phrase(f"{w.REVIEW} be/been/get/gets/got _1 {_CHANGED}"),
        phrase(f"{w.CHANGE} _3 1/2/3/one/two/three star/stars/sterne/etoile/etoiles/estrella/estrellas/stella/stelle"),
        phrase("change/update/raise/increase/bump/upgrade it/them/that/ur/your/the _1 to")
        + r"\s*(?:\d|four|five)[\s-]*stars?",
        r"(?:レビュー|評価|评价|评论|差评|好评)[^.!?\n]{0,6}(?:削除|変更|修正|取り消|删除|修改|撤)",
        r"(?:削除|変更|修正|删除|修改|撤)[^.!?\n]{0,6}(?:レビュー|評価|评价|评论|差评)",
    )
)
REVIEW_REQUEST: Final = AnyOf(
    compile_re2(any_of(
        phrase(f"{w.LEAVE}/leave/consider+leaving us/me _3 {w.REVIEW}/{w.STARS}"),
        phrase(f"{w.LEAVE}/leave _3 {w.REVIEW}/{w.STARS}"),
        phrase("rate/review us/me/your+purchase/your+order/your+experience/your+item/your+product"),
        phrase("rate/review the/this/our product/item/seller/purchase/service/store/shop/order"),
        phrase(f"would/we+d/i+d _1 love/like/appreciate/value/welcome _6 {w.REVIEW}"),
        phrase("please _2 review/rate"),
        phrase(f"your/an/a _1 {w.REVIEW} would/will/helps/help/means/matters/mean"),
        phrase(f"a/your quick/short/brief/honest {w.REVIEW}"),
        phrase("how many stars"),
        phrase(f"tell others/us in/with a {w.REVIEW}"),
        phrase("sharing your thoughts/experience/opinion"),
        phrase("tell/let us _1 what you think/thought of/about the/your/this/our product/item/purchase/order/it"),
        phrase("a few words about/on the/your/this/our product/item/purchase/order"),
        phrase("how would/do you rate"),
    )),
    compile_re2(near(_REQUEST, _REVIEW)),
    compile_re2(near(phrases("wurden uns/mich", "freuen uns", "serions ravis", "ravis de", "nos encantaria",
                             "ci farebbe piacere", "嬉しい", "欢迎", "期待"), _REVIEW)),
)

# "Thank you for leaving feedback" thanks for a review, it does not ask for one (M8).
THANKS: Final = compile_re2(
    any_of(
        phrase("thanks/thank+you/grateful/appreciate+you/danke/vielen+dank/merci/gracias/grazie for/fur/pour/por/per")
        + r"[^.!?;\n]*",
        r"(?:ありがとう|感谢|谢谢)[^.!?;\n]*|[^.!?;\n]*(?:ありがとう|感谢|谢谢)",
    )
)
