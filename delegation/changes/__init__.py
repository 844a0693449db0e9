"""Change requests: every add, change or removal of a delegate is saved first, checked, approved
where the tenant asks, applied through Graph or Teams PowerShell, verified and audited."""
