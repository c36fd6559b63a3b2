from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from services.listing.verification import (
    BankAccount,
    IdentityDocument,
    ReasonCode,
    Registration,
    Verdict,
    VerificationResult,
    iban_problem,
    is_aba_routing_number,
    is_country_code,
    is_email,
    names_match,
    normalize_tax_id,
    verify_registration,
)
from shared.events.common import BusinessType, DocumentType

REGISTERED_ON = date(2025, 3, 14)


def registration(**changes: object) -> Registration:
    base = Registration(
        legal_name="Jürgen Müller",
        country="DE",
        business_type=BusinessType.INDIVIDUAL,
        contact_email="juergen@example.de",
        tax_id="DE123456789",
        bank_account=BankAccount(iban="DE89370400440532013000"),
        identity_document=IdentityDocument(
            type=DocumentType.PASSPORT,
            number="C01X00T47",
            holder_name="MÜLLER, Jürgen",
            expiry_date=date(2030, 1, 31),
        ),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def document(**changes: object) -> IdentityDocument:
    return replace(registration().identity_document, **changes)  # type: ignore[arg-type]


def verify(reg: Registration, *, tax_id_registered: bool = False) -> VerificationResult:
    return verify_registration(reg, at=REGISTERED_ON, tax_id_registered=tax_id_registered)


def codes(result: VerificationResult) -> set[ReasonCode]:
    return {reason.code for reason in result.reasons}


def test_a_legal_name_of_100_characters_is_accepted():
    assert verify(registration(legal_name="x" * 100, business_type=BusinessType.COMPANY)).reasons == ()


def test_the_business_day_is_the_utc_date_of_an_aware_datetime():
    # 2025-03-14 23:30 UTC is already the 15th in Berlin: the document expiring on the 14th is valid.
    at = datetime(2025, 3, 15, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    reg = registration(identity_document=document(expiry_date=REGISTERED_ON))

    assert verify_registration(reg, at=at, tax_id_registered=False).verdict is Verdict.VERIFIED


def test_a_well_formed_registration_is_verified():
    result = verify(registration())

    assert result == VerificationResult(Verdict.VERIFIED)


def test_a_registration_with_account_and_routing_number_is_verified():
    bank = BankAccount(account_number="000123456789", routing_number="021000021")

    assert verify(registration(bank_account=bank, country="US")).verdict is Verdict.VERIFIED


def test_the_business_time_may_be_given_as_an_aware_datetime():
    at = datetime(2025, 3, 14, 23, 59, tzinfo=UTC)

    assert verify_registration(registration(), at=at, tax_id_registered=False).verdict is Verdict.VERIFIED


@pytest.mark.parametrize(
    "iban",
    [
        "GB82WEST12345698765432",
        "DE89370400440532013000",
        "FR1420041010050500013M02606",
        "NL91ABNA0417164300",
        "BE68539007547034",
        "CH9300762011623852957",
        "NO9386011117947",
        "MT84MALT011000012345MTLCAST001S",
        "ES9121000418450200051332",
        "IT60X0542811101000000123456",
        "PL61109010140000071219812874",
        "GB82 WEST 1234 5698 7654 32",
        "gb82west12345698765432",
    ],
)
def test_a_valid_iban_passes(iban):
    assert iban_problem(iban) is None


@pytest.mark.parametrize(
    ("iban", "problem"),
    [
        ("GB82WEST12345698765433", ReasonCode.IBAN_CHECK_DIGITS_INVALID),
        ("DE89370400440532013001", ReasonCode.IBAN_CHECK_DIGITS_INVALID),
        ("GB00WEST12345698765432", ReasonCode.IBAN_CHECK_DIGITS_INVALID),
        ("NL91ABNA0417164301", ReasonCode.IBAN_CHECK_DIGITS_INVALID),
        ("GB82WEST1234569876543", ReasonCode.IBAN_LENGTH_INVALID),
        ("DE8937040044053201300000", ReasonCode.IBAN_LENGTH_INVALID),
        ("NO938601111794", ReasonCode.IBAN_LENGTH_INVALID),
        ("1234", ReasonCode.IBAN_MALFORMED),
        ("GBXXWEST12345698765432", ReasonCode.IBAN_MALFORMED),
        ("DE89-3704-0044-0532-0130-0!", ReasonCode.IBAN_MALFORMED),
        ("", ReasonCode.IBAN_MALFORMED),
    ],
)
def test_an_invalid_iban_is_named_by_its_problem(iban, problem):
    assert iban_problem(iban) is problem


def test_a_registration_with_a_bad_iban_check_digit_is_rejected():
    result = verify(registration(bank_account=BankAccount(iban="GB82WEST12345698765433")))

    assert result.verdict is Verdict.REJECTED
    assert codes(result) == {ReasonCode.IBAN_CHECK_DIGITS_INVALID}


@pytest.mark.parametrize("routing", ["021000021", "011000015", "026009593", "122105155"])
def test_a_valid_aba_routing_number_passes(routing):
    assert is_aba_routing_number(routing)


@pytest.mark.parametrize(
    "routing", ["021000022", "000000000", "991000021", "02100002", "0210000210", "02100002A"]
)
def test_an_invalid_aba_routing_number_fails(routing):
    assert not is_aba_routing_number(routing)


@pytest.mark.parametrize(
    ("bank", "expected"),
    [
        (BankAccount(), {ReasonCode.BANK_ACCOUNT_MISSING}),
        (
            BankAccount(iban="DE89370400440532013000", account_number="123456", routing_number="021000021"),
            {ReasonCode.BANK_ACCOUNT_AMBIGUOUS},
        ),
        (
            BankAccount(account_number="123456", routing_number="021000022"),
            {ReasonCode.ROUTING_NUMBER_INVALID},
        ),
        (BankAccount(account_number="123456"), {ReasonCode.ROUTING_NUMBER_INVALID}),
        (BankAccount(account_number="12", routing_number="021000021"), {ReasonCode.ACCOUNT_NUMBER_INVALID}),
        (BankAccount(routing_number="021000021"), {ReasonCode.ACCOUNT_NUMBER_INVALID}),
    ],
)
def test_a_missing_or_ill_formed_bank_account_is_rejected(bank, expected):
    result = verify(registration(bank_account=bank))

    assert result.verdict is Verdict.REJECTED
    assert codes(result) == expected


@pytest.mark.parametrize("country", ["DE", "GB", "US", "FR", "JP", "AX"])
def test_an_assigned_iso_country_code_passes(country):
    assert is_country_code(country)


@pytest.mark.parametrize("country", ["UK", "XX", "EU", "gb", "USA", "D", ""])
def test_anything_but_an_assigned_iso_country_code_is_rejected(country):
    result = verify(registration(country=country))

    assert codes(result) == {ReasonCode.COUNTRY_INVALID}


@pytest.mark.parametrize(
    "email",
    ["juergen@example.de", "first.last+shop@mail.example.co.uk", "o'neil@example.com", "A_B@sub-domain.io"],
)
def test_a_well_formed_email_passes(email):
    assert is_email(email)


@pytest.mark.parametrize(
    "email",
    [
        "",
        "juergen",
        "juergen@",
        "@example.de",
        "juergen@example",
        "jürgen @example.de",
        "a@b@example.de",
        "a@-x.de",
    ],
)
def test_an_ill_formed_email_is_rejected(email):
    result = verify(registration(contact_email=email))

    assert codes(result) == {ReasonCode.EMAIL_INVALID}


@pytest.mark.parametrize("legal_name", ["", "   ", "12345", "x" * 101])
def test_an_empty_or_nameless_legal_name_is_rejected(legal_name):
    result = verify(registration(legal_name=legal_name))

    assert ReasonCode.LEGAL_NAME_INVALID in codes(result)


@pytest.mark.parametrize("tax_id", ["", "DE1", "ABCDEFGH", "DE12345678901234567890", "DE#123456"])
def test_an_ill_formed_tax_id_is_rejected(tax_id):
    assert codes(verify(registration(tax_id=tax_id))) == {ReasonCode.TAX_ID_INVALID}


def test_a_second_registration_with_a_registered_tax_id_is_rejected():
    result = verify(registration(), tax_id_registered=True)

    assert result.verdict is Verdict.REJECTED
    assert codes(result) == {ReasonCode.TAX_ID_ALREADY_REGISTERED}


def test_tax_ids_are_compared_without_spacing_case_or_punctuation():
    assert normalize_tax_id("de 123.456-789") == normalize_tax_id("DE123456789") == "DE123456789"


def test_a_document_expired_before_the_registration_day_is_rejected():
    result = verify(registration(identity_document=document(expiry_date=date(2025, 3, 13))))

    assert codes(result) == {ReasonCode.DOCUMENT_EXPIRED}
    assert "2025-03-13" in result.reasons[0].message


def test_a_document_expiring_on_the_registration_day_is_still_valid():
    result = verify(registration(identity_document=document(expiry_date=REGISTERED_ON)))

    assert result.verdict is Verdict.VERIFIED


@pytest.mark.parametrize("number", ["", "12", "C01X00T47!", "X" * 21])
def test_an_ill_formed_document_number_is_rejected(number):
    result = verify(registration(identity_document=document(number=number)))

    assert codes(result) == {ReasonCode.DOCUMENT_NUMBER_INVALID}


@pytest.mark.parametrize(
    ("legal_name", "holder_name"),
    [
        ("Jürgen Müller", "JURGEN MULLER"),
        ("Jürgen Müller", "Müller, Jürgen"),
        ("José-María O'Brien", "Jose Maria OBrien"),
        ("Søren Kierkegaard", "SOREN KIERKEGAARD"),
        ("Anne-Marie Dupont", "AnneMarie Dupont"),
        ("Zoë  Ł. Smith", "zoe l smith"),
    ],
)
def test_names_match_whatever_their_case_accents_punctuation_and_word_order(legal_name, holder_name):
    assert names_match(legal_name, holder_name)


@pytest.mark.parametrize(
    ("legal_name", "holder_name"),
    [("Jürgen Müller", "Jürgen Meyer"), ("Jürgen Müller", "Jürgen"), ("Ann Lee", "Anne Lee"), ("", "")],
)
def test_different_names_do_not_match(legal_name, holder_name):
    assert not names_match(legal_name, holder_name)


def test_an_individual_whose_document_names_someone_else_is_rejected():
    result = verify(registration(identity_document=document(holder_name="Hans Schmidt")))

    assert result.verdict is Verdict.REJECTED
    assert codes(result) == {ReasonCode.HOLDER_NAME_MISMATCH}


def test_a_company_whose_document_names_its_representative_waits_for_an_operator():
    company = registration(legal_name="Müller Handels GmbH", business_type=BusinessType.COMPANY)

    result = verify(company)

    assert result.verdict is Verdict.PENDING_REVIEW
    assert result.reasons == ()
    assert [doubt.code for doubt in result.doubts] == [ReasonCode.HOLDER_NAME_MISMATCH]


def test_a_document_without_a_holder_name_is_rejected():
    result = verify(registration(identity_document=document(holder_name=" - ")))

    assert codes(result) == {ReasonCode.HOLDER_NAME_MISSING}


def test_a_rejection_names_every_failed_check_with_a_message():
    bad = registration(
        country="XX",
        contact_email="nope",
        bank_account=BankAccount(iban="GB82WEST12345698765433"),
        identity_document=document(expiry_date=date(2020, 1, 1), holder_name="Hans Schmidt"),
    )

    result = verify(bad, tax_id_registered=True)

    assert result.verdict is Verdict.REJECTED
    assert codes(result) == {
        ReasonCode.COUNTRY_INVALID,
        ReasonCode.EMAIL_INVALID,
        ReasonCode.TAX_ID_ALREADY_REGISTERED,
        ReasonCode.IBAN_CHECK_DIGITS_INVALID,
        ReasonCode.DOCUMENT_EXPIRED,
        ReasonCode.HOLDER_NAME_MISMATCH,
    }
    assert all(reason.message for reason in result.reasons)


def test_a_company_with_a_hard_failure_is_rejected_and_keeps_its_doubt():
    company = registration(legal_name="Müller Handels GmbH", business_type=BusinessType.COMPANY, country="XX")

    result = verify(company)

    assert result.verdict is Verdict.REJECTED
    assert codes(result) == {ReasonCode.COUNTRY_INVALID}
    assert [doubt.code for doubt in result.doubts] == [ReasonCode.HOLDER_NAME_MISMATCH]
