"""Standard tracker lists: their formats (abp, domains), their model (model), where they come
from and how they are configured (config), downloading them (fetch) and the local cache
(store). Knows nothing of the catalog: auditor.classify attaches lists to it.

May import: auditor.names and the bottom modules.
"""
