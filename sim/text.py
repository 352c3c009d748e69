"""Text hygiene for values a user supplies that end up in a CSV file."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str) -> str:
    """Text that a spreadsheet will not run as a formula: a leading ``= + - @`` (or tab,
    carriage return) gets an apostrophe in front, as OWASP recommends for CSV injection."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
