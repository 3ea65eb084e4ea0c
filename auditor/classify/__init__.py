"""Judging endpoints: the catalog of organisations, their domains and ranges (catalog, its
entries' checks in catalog_fields, `name.*` country domains in country_domains, autonomous
systems in asn_catalog), lookups by name across catalog and lists (name_lookup), the decision
for one endpoint with its evidence (decision, endpoint, list_weighing), who holds a public
address (address_owner, from the offline databases of address_database and geoip2fast_data),
the audited app (app_detection), HTTP request context for filter lists (request_context),
standard lists and vendor ranges attached to a catalog (list_attach, vendor_ranges), and
accuracy counting (accuracy).

May import: auditor.lists, auditor.names and the bottom modules.
"""
