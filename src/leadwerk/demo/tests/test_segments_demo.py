"""The demo's three saved segments: made by the real services, one frozen, idempotent."""

from __future__ import annotations

from leadwerk.contacts.models import Segment, SegmentMember
from leadwerk.contacts.segments import segment_count
from leadwerk.demo.contacts import contacts_load
from leadwerk.demo.segments import segments_load


def test_three_segments_with_real_counts_one_frozen(tenant, marketing):
    contacts_load(tenant, people=300, organizations=50, seed=7)
    assert segments_load(tenant) == 3
    segments = {s.name: s for s in Segment.objects.filter(tenant=tenant)}
    bavaria = segments["E-Mail-Newsletter: Bayern"]
    counts = segment_count(membership=marketing, segment=bavaria)
    assert counts.total > 0 and 0 < counts.eligible < counts.total  # consent and suppressions bite
    assert segment_count(membership=marketing, segment=segments["Post-Mailing: große Unternehmen"]).total > 0
    frozen = [s for s in segments.values() if s.is_frozen]
    assert len(frozen) == 1 and SegmentMember.objects.filter(segment=frozen[0]).exists()
    assert segments_load(tenant) == 3  # a second run adds nothing
