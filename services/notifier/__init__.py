"""The notifier: tells the owner what needs them (locks, an expired session, budget, LLM halts, services and
dead letters, drafts waiting) and sends a daily digest, through Apprise channels; Alertmanager's webhook."""
