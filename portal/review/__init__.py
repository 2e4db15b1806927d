"""The staff side: the approval queue, verification tasks of holding archives, claims, internal notes."""
