"""Redaction of secrets and personal data before a teacher call, and restoring them after."""

from __future__ import annotations

import logging

import pytest

from tether.agent.redact import Redactor, redact, redact_messages

CASES = {
    "openai key": (
        'client = OpenAI(api_key="sk-proj-abcdefghijklmnopqrstuvwxyz012345")',
        "sk-proj-abcdefghijklmnopqrstuvwxyz012345",
    ),
    "anthropic key": (
        "KEY = 'sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789'",
        "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    ),
    "aws access key": ("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    "github token": (
        "token: ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    ),
    "slack token": ("SLACK = 'xoxb-123456789012-abcdefghijkl'", "xoxb-123456789012-abcdefghijkl"),
    "google key": (
        "key=AIzaSyA1234567890abcdefghijklmnopqrstuv",
        "AIzaSyA1234567890abcdefghijklmnopqrstuv",
    ),
    "jwt": (
        "auth = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0",
    ),
    "bearer header": (
        'headers = {"Authorization": "Bearer abcdef0123456789abcdef0123"}',
        "abcdef0123456789abcdef0123",
    ),
    "password assignment": ('DB_PASSWORD = "hunter2-correct-horse"', "hunter2-correct-horse"),
    "url credentials": ("DSN = 'postgres://admin:s3cr3tpass@db.example.com/app'", "s3cr3tpass"),
    "email": ("# maintainer: jane.doe@example.com", "jane.doe@example.com"),
    "private key": (
        "KEY = '''-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nabc\n"
        "-----END RSA PRIVATE KEY-----'''",
        "MIIEowIBAAKCAQEA7",
    ),
    "unterminated private key": (
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXkt",
        "b3BlbnNzaC1rZXkt",
    ),
}


@pytest.mark.parametrize("text,secret", CASES.values(), ids=list(CASES))
def test_secrets_are_redacted(text: str, secret: str) -> None:
    out, count = redact(text)
    assert secret not in out
    assert count >= 1
    assert "[REDACTED_" in out


def test_ordinary_code_is_left_alone() -> None:
    code = (
        "def total(items):\n    token_count = len(items)\n    password_hint = None\n"
        '    return "%s items" % token_count\n'
    )
    out, count = redact(code)
    assert (out, count) == (code, 0)


def test_spec_patterns_are_redacted_too() -> None:
    out, count = redact("customer = 'ACME-4411-2290'", [r"ACME-\d{4}-\d{4}"])
    assert "ACME-4411-2290" not in out and count == 1


def test_restore_puts_values_back_and_same_value_same_placeholder(
    caplog: pytest.LogCaptureFixture,
) -> None:
    r = Redactor()
    messages = [
        {"role": "system", "content": "Owner: ops@example.com"},
        {
            "role": "user",
            "content": 'KEY = "sk-abcdefghijklmnopqrstuvwx1234"\nmail("ops@example.com")',
        },
    ]
    with caplog.at_level(logging.INFO, logger="tether.redaction"):
        sent = redact_messages(messages, r)
    assert "ops@example.com" not in sent[0]["content"] + sent[1]["content"]
    assert sent[0]["content"] == "Owner: [REDACTED_EMAIL_1]"
    assert "[REDACTED_EMAIL_1]" in sent[1]["content"]  # same value, same placeholder
    assert r.count == 3
    assert "redacted 3 value(s)" in caplog.text
    answer = 'API_KEY = "[REDACTED_API_KEY_1]"\nmail("[REDACTED_EMAIL_1]")'
    assert (
        r.restore(answer) == 'API_KEY = "sk-abcdefghijklmnopqrstuvwx1234"\nmail("ops@example.com")'
    )
    assert messages[1]["content"].startswith('KEY = "sk-')  # the caller's messages are untouched


def test_code_that_only_names_secrets_is_left_alone() -> None:
    """Model code is full of tokens and keys that are names, not values."""
    code = (
        "tokenizer = AutoTokenizer.from_pretrained(name)\n"
        "out = model.generate(ids, max_new_tokens=max_new_tokens)\n"
        "token_count: int = 0\n"
        "def connect(password_hint: str | None = None, api_key: Optional[str] = None):\n"
        "    secret_key = settings.secret_key\n"
        '    token = f"{prefix}-{uuid.uuid4().hex}"\n'
        "    access_key: SettingsSource = source\n"
    )
    out, count = redact(code)
    assert (out, count) == (code, 0)


@pytest.mark.parametrize(
    "text,secret",
    [
        ("DB_PASSWORD=hunter2hunter2", "hunter2hunter2"),
        ('    password: str = "Tr0ub4dor&3"', "Tr0ub4dor&3"),
        ("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "9f86d081884c7d659"),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY", "wJalrXUtnFEMI"),
        ("export API_TOKEN=q8Zr2mX7vP4kL9nB3cT6", "q8Zr2mX7vP4kL9nB3cT6"),
        ("//registry.npmjs.org/:_authToken=abc123def456ghi789", "abc123def456ghi789"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZDEyMw==", "dXNlcjpwYXNzd29yZDEyMw=="),
        ("PASSWORD=correcthorsebattery", "correcthorsebattery"),
    ],
    ids=["dotenv", "type hint", "bare hex", "aws file", "export", "npmrc", "basic", "env words"],
)
def test_the_leaks_the_probes_found_are_closed(text: str, secret: str) -> None:
    out, count = redact(text)
    assert secret not in out and count >= 1
