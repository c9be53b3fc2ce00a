"""mode: deploy. Put built artifacts into a target OIC: import, connections from a per-environment
plan, attachments, lookups, activation polled, rollback on failure, dry run (README, "Deploying").
"""
