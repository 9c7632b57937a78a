"""Piggy's error answers: `{"message", "code", "status_code"}` (+ `errors` for 1003), always HTTP 400."""

from __future__ import annotations

from collections.abc import Mapping

# Piggy's own texts for the codes the sandbox raises.
MESSAGES: Mapping[int, str] = {
    1003: "Invalid input",
    1008: "Shop not found",
    1015: "Maximum amount of credits reached",
    1017: "Insufficient credits",
    1018: "Stock on this reward is empty",
    1028: "Credit reception not found",
    1052: "Reward is inactive",
    6001: "The POS transaction is already linked to a credit reception",
    6003: "Reward not found",
    13010: "Passcode not found",
    55031: "Contact not found",
    55032: "User app not found",
    60003: "Contact identifier not found",
    60004: "Contact identifier inactive",
    60005: "Contact already exists",
    60006: "Contact identifier already exists",
    60011: "Contact identifier is not linked to a contact",
    60014: "Contact identifier is already linked",
    60007: "Unit not found",
    60009: "Attribute already exists",
    60013: "Model not found",
    60016: "Contact not anonymous",
    80002: "Promotion not found",
    80004: "Voucher not found",
    80005: "Voucher code has already been redeemed",
    80006: "Voucher has expired",
    80008: "Voucher limit reached",
    80012: "Voucher is deactivated",
    80014: "Voucher is inactive",
    80017: "Voucher is already locked",
}


class ApiError(Exception):
    """A refusal Piggy would answer with its error body; raised by the rules, rendered by the app."""

    def __init__(self, code: int, message: str | None = None, errors: Mapping[str, list[str]] | None = None) -> None:
        self.code = code
        self.message = message or MESSAGES.get(code, "Error")
        self.errors = dict(errors or {})
        super().__init__(f"{code} {self.message}")

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {"message": self.message, "code": self.code, "status_code": 400}
        if self.code == 1003:
            body["errors"] = self.errors
        return body


def invalid(field: str, message: str) -> ApiError:
    """A 1003 for one field, worded like Laravel's validator (which Piggy runs on)."""
    return ApiError(1003, errors={field: [message]})
