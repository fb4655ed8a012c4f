"""The audit concern as a reader meets it in pages: each event in an entry's history links its
proof bundle, which checks out offline, and the audit page points to tiles, proof bundles and
witnesses."""

from __future__ import annotations

from lxml import html

from audit import signed_note
from audit.checkpoints import issue_checkpoint
from audit.proof import parse_proof, verify_proof
from projections.runner import Projector
from tests.factories import random_ref, run, setup_ccm


def test_each_event_in_a_history_links_its_proof_bundle(database_url, ledger, api):
    setup_ccm(ledger)
    ref = random_ref("pledge")
    run(ledger, "pledge_commitment", id=ref, party="HRV", provisions=["CCM:3"], text="Destroy",
        due_on="2012-06-30")
    signer, verifier = signed_note.generate_key("ledger.test/log")
    with Projector(database_url) as projector:
        issue_checkpoint(projector, signer, "ledger.test/log")
    api.settle()
    page = html.fromstring(api.client.get(f"/commitments/{ref}").content)
    links = page.xpath('//ol[contains(@class, "history")]//a[.="proof bundle"]/@href')
    history = api.client.get(f"/v1/commitments/{ref}/history").json()
    assert links == [f"/v1/audit/proofs/{row['event_id']}.tlog-proof" for row in history]
    bundle = parse_proof(api.client.get(links[0]).text)
    assert verify_proof(bundle, bundle.extra, verifier).origin == "ledger.test/log"


def test_the_audit_page_points_to_tiles_proof_bundles_and_witnesses(api):
    page = html.fromstring(api.client.get("/audit").content)
    hrefs = set(page.xpath("//a/@href"))
    assert {"/checkpoint", "https://c2sp.org/tlog-tiles", "https://c2sp.org/tlog-proof",
            "https://c2sp.org/tlog-witness"} <= hrefs
    text = page.text_content()
    assert "ledger witness serve" in text and "--quorum 2" in text
