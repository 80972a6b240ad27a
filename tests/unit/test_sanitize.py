from shared.runs.sanitize import MAX_MESSAGE_CHARS, describe_exception, sanitize_message

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJvaWQiOiIxMjMifQ.c2lnbmF0dXJlLWJ5dGVz"


def test_bearer_tokens_and_jwts_are_removed() -> None:
    text = sanitize_message(f"401 calling Graph with Authorization: Bearer {JWT} and {JWT}")
    assert "eyJ" not in text and "signature" not in text
    assert "Bearer [redacted]" in text


def test_secrets_in_key_value_form_are_removed() -> None:
    cases = [
        "AccountName=dev;AccountKey=c2VjcmV0a2V5Cg==;EndpointSuffix=x",
        "client_secret=s3cr3t-Value&grant_type=client_credentials",
        'payload {"access_token": "abc.def", "password": "hunter2"}',
        "https://acct.blob.core.windows.net/c/b?sv=2024&sig=AbCd%2Fsecret",
    ]
    for case in cases:
        cleaned = sanitize_message(case)
        for secret in ("c2VjcmV0a2V5Cg", "s3cr3t-Value", "abc.def", "hunter2", "AbCd%2Fsecret"):
            assert secret not in cleaned, (case, cleaned)


def test_stack_traces_are_dropped_and_messages_capped_to_one_line() -> None:
    message = 'boom\nTraceback (most recent call last):\n  File "x.py", line 1\nValueError: y'
    assert sanitize_message(message) == "boom [traceback removed]"
    long = sanitize_message("x" * 10_000)
    assert len(long) == MAX_MESSAGE_CHARS and "\n" not in long


def test_describe_exception_names_the_type() -> None:
    assert describe_exception(ValueError(f"bad token Bearer {JWT}")) == (
        "ValueError: bad token Bearer [redacted]"
    )
    assert describe_exception(KeyError()) == "KeyError: KeyError"
