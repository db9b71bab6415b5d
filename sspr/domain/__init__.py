"""Pure domain logic: policy, reset flow, answers, limits and audit. Never imports Flask."""
