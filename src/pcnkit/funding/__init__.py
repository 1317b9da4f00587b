"""The funding engine: Network Contract DES entitlements, ARRS, schedules, allocations, ledger."""
