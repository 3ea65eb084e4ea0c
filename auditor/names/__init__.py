"""Host names: normalising and checking names and addresses, registrable domains (public suffix
list), and naming a server address from the DNS answers a session saw.

May import: auditor.protocols, auditor.records, auditor.timefmt.
"""
