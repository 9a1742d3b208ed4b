"""Alignment moments (Afstemmoment): scheduled check-ins in a channel, and ad-hoc alignment on one subject."""
