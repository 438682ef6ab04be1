from decimal import Decimal

from django.utils import translation

from leadwerk.core.templatetags.leadwerk import money, number


def test_money_and_numbers_follow_the_locale():
    with translation.override("de"):
        assert money(Decimal("1234.56")) == "1.234,56\u00a0€"
        assert number(1234567) == "1.234.567"
    with translation.override("en"):
        assert money(Decimal("1234.56")) == "€1,234.56"
        assert number(1234567) == "1,234,567"


def test_dates_follow_the_locale():
    from datetime import date

    from django.utils.formats import date_format

    with translation.override("de"):
        assert date_format(date(2026, 12, 31), "SHORT_DATE_FORMAT") == "31.12.2026"
