from core.scoping import ScopeError, tenant_scope, unscoped

__all__ = ["ScopeError", "tenant_scope", "unscoped"]
