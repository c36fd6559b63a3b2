"""The aftersales service's own settings: every window of domain.md section 5 is a setting.

Environment variables with the prefix `AFTERSALES_` (e.g. `AFTERSALES_PARK_FOR_DAYS=5`), read once.
The platform settings (broker, database, secrets) stay in `shared/settings.py`.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.aftersales.domain import AftersalesPolicy
from services.aftersales.message_rules import MessagePolicy


class AftersalesSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AFTERSALES_", case_sensitive=False, extra="ignore")

    reply_within_hours: float = Field(default=24, gt=0)
    return_window_days: float = Field(default=30, gt=0)
    return_answer_within_hours: float = Field(default=48, gt=0)
    refund_after_receipt_days: float = Field(default=2, gt=0)
    negative_feedback_max_stars: int = Field(default=2, ge=1, le=4)
    park_for_days: float = Field(default=3, gt=0)
    feedback_follow_up_days: float = Field(default=60, gt=0)
    allowed_link_domains: tuple[str, ...] = ("sellerflow.example",)
    max_review_requests_per_order: int = Field(default=1, ge=0)

    def policy(self) -> AftersalesPolicy:
        return AftersalesPolicy(
            reply_within=timedelta(hours=self.reply_within_hours),
            return_window=timedelta(days=self.return_window_days),
            return_answer_within=timedelta(hours=self.return_answer_within_hours),
            refund_after_receipt_within=timedelta(days=self.refund_after_receipt_days),
            negative_feedback_max_stars=self.negative_feedback_max_stars,
            park_for=timedelta(days=self.park_for_days),
            feedback_follow_up=timedelta(days=self.feedback_follow_up_days),
        )

    def message_policy(self) -> MessagePolicy:
        return MessagePolicy(
            allowed_link_domains=self.allowed_link_domains,
            max_review_requests_per_order=self.max_review_requests_per_order,
        )


@lru_cache(maxsize=1)
def get_settings() -> AftersalesSettings:
    return AftersalesSettings()
