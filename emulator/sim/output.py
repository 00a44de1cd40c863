"""Write a run to a directory: visits, CRM snapshots, every upload as sent, the truth, a manifest.

Layout (all paths relative to the output directory)::

    manifest.json            seed, full settings, package versions, counts, sha256 of every file
    counter.json             the counter to create on an emulator (PUT /_emulator/counters/{id})
    visits.csv               the control-route schema of POST /_emulator/counters/{id}/visits
    visits.parquet           the same rows plus the truth: person, source name, landing, click cost
    crm/contacts.jsonl       contacts at the end of the run, as the CRM holds them
    crm/deals.jsonl          deals at the end of the run, as the CRM holds them
    crm/status_history.csv   every status a deal was in, and when
    uploads/NNNNNN-KIND.EXT  every uploaded body exactly as sent
    uploads.jsonl            sent_at, method, path, params, file, content type, sha256 per upload
    truth/orders.jsonl       per order: true person, ClientID, originating visit, channel, source…
    truth/uploads.jsonl      per upload: what it carried (record keys) and when it was collected
    truth/ad_costs.csv       clicks and cost per day, source and campaign (for ROI)

The same seed and settings give byte-identical files: no wall-clock times, sorted keys, rows in a
defined order.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import platform
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from emulator.sim.config import to_plain
from emulator.sim.crm import ContactRecord, DealRecord
from emulator.sim.run import SimulationResult
from emulator.sim.settings import Source
from emulator.sim.traffic import VisitRef
from emulator.sim.uploads import Upload

PACKAGES = ("crm-metrica-emulator", "simpy", "faker", "numpy", "pyarrow", "httpx")


def write_run(result: SimulationResult, out: str | Path) -> dict[str, Any]:
    """Write everything; returns the manifest."""
    root = Path(out)
    for folder in ("crm", "uploads", "truth"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def put(name: str, data: bytes) -> None:
        path = root / name
        path.write_bytes(data)
        written.append(path)

    put("counter.json", _json_bytes(result.counter))
    with (root / "visits.csv").open("wb") as handle:
        result.visits.write_csv(handle)
    written.append(root / "visits.csv")
    result.visits.write_parquet(root / "visits.parquet")
    written.append(root / "visits.parquet")
    put("crm/contacts.jsonl", _jsonl(_contact(result, c) for c in result.crm.contacts))
    put("crm/deals.jsonl", _jsonl(_deal(result, d) for d in result.crm.deals))
    put("crm/status_history.csv", _status_history(result))
    for upload in result.timeline:
        put(f"uploads/{upload.stored_name}", upload.body)
    put("uploads.jsonl", _jsonl(_upload_line(u) for u in result.timeline))
    put("truth/orders.jsonl", _jsonl(truth_orders(result)))
    put("truth/uploads.jsonl", _jsonl(_upload_truth(u) for u in result.timeline))
    put("truth/ad_costs.csv", _ad_costs(result))
    manifest = _manifest(result, root, written)
    (root / "manifest.json").write_bytes(_json_bytes(manifest))
    return manifest


def _manifest(result: SimulationResult, root: Path, written: list[Path]) -> dict[str, Any]:
    versions = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    files = {p.relative_to(root).as_posix(): _sha256(p) for p in sorted(written)}
    return {
        "seed": result.seed,
        "settings": to_plain(result.settings),
        "versions": versions,
        "counts": {
            "visits": len(result.visits),
            "leads": len(result.leads),
            "contacts": len(result.crm.contacts),
            "deals": len(result.crm.deals),
            "uploads": len(result.timeline),
        },
        "files": files,
    }


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _contact(result: SimulationResult, contact: ContactRecord) -> dict[str, Any]:
    """A contact card: identifiers as typed and the first touch's ClientID and UTM tags."""
    return {
        "uniq_id": contact.uniq_id,
        "name": contact.name,
        "created": result.calendar.local(contact.created).isoformat(),
        "client_id": contact.client_id,
        "phones": contact.phones,
        "emails": contact.emails,
        **_utm(result, contact.first_lead.visit),
    }


def _deal(result: SimulationResult, deal: DealRecord) -> dict[str, Any]:
    cal = result.calendar
    return {
        "id": deal.id,
        "contact": deal.contact.uniq_id,
        "created": cal.local(deal.recorded_created).isoformat(),
        "updated": cal.local(deal.updated).isoformat(),
        "status": deal.status,
        "revenue": str(deal.revenue),
        "cost": str(deal.cost),
        "products": [list(p) for p in deal.products],
        "client_id": deal.lead.client_id,
        "lead_channel": deal.lead.channel,
        **_utm(result, deal.lead.visit),
    }


def _utm(result: SimulationResult, visit: VisitRef) -> dict[str, Any]:
    """The UTM tags the site passed with a request (what the CRM's UTM fields hold)."""
    source = _source(result, visit.source)
    return {
        "utm_source": source.utm_source,
        "utm_medium": source.utm_medium,
        "utm_campaign": source.campaigns[visit.campaign] if visit.campaign >= 0 else None,
    }


def _status_history(result: SimulationResult) -> bytes:
    rows = (
        (deal.id, status, result.calendar.local(at).isoformat())
        for deal in result.crm.deals
        for status, at in deal.history
    )
    return _csv(("order_id", "status", "at"), rows)


def truth_orders(result: SimulationResult) -> list[dict[str, Any]]:
    """The ground truth of every CRM order (the rows of ``truth/orders.jsonl``)."""
    return [_truth(result, deal) for deal in result.crm.deals]


def _truth(result: SimulationResult, deal: DealRecord) -> dict[str, Any]:
    cal, lead = result.calendar, deal.lead
    visit = lead.visit
    source = _source(result, visit.source)
    status = result.pipeline.status(deal.status)
    return {
        "order_id": deal.id,
        "contact_id": deal.contact.uniq_id,
        "person": visit.person,
        "true_client_id": visit.client_id,
        "captured_client_id": lead.client_id,
        "client_id_kind": lead.client_id_kind,
        "visit_id": visit.visit_id,
        "visit_start": cal.local(visit.start).isoformat(),
        "lead_id": lead.id,
        "lead_channel": lead.channel,
        "source": result.source_names[visit.source],
        "traffic_source": source.traffic_source,
        "source_detail": source.source_detail,
        **_utm(result, visit),
        "yclid": visit.yclid or None,
        "created_at": cal.local(deal.created).isoformat(),
        "recorded_created_at": cal.local(deal.recorded_created).isoformat(),
        "status": deal.status,
        "status_type": status.type,
        "status_history": [[s, cal.local(at).isoformat()] for s, at in deal.history],
        "paid_at": cal.local(deal.paid_at).isoformat() if deal.paid_at is not None else None,
        "revenue": str(deal.revenue),
        "cost": str(deal.cost),
        "phone_as_typed": lead.phone,
        "email_as_typed": lead.email,
        "static_call": lead.static_call,
        "advanced_matching": visit.visit_id in result.visits.typed,
    }


def _upload_line(upload: Upload) -> dict[str, Any]:
    return {
        "seq": upload.seq,
        "sent_at": upload.sent_at.isoformat(),
        "kind": upload.kind,
        "method": upload.method,
        "path": upload.path,
        "params": [list(p) for p in upload.params],
        "file": f"uploads/{upload.stored_name}",
        "content_type": upload.content_type,
        "multipart_file_name": upload.file_name if upload.multipart else None,
        "sha256": upload.sha256,
        "size": len(upload.body),
    }


def _upload_truth(upload: Upload) -> dict[str, Any]:
    return {
        "seq": upload.seq,
        "sent_at": upload.sent_at.isoformat(),
        "collected_at": upload.collected_at.isoformat(),
        "exporter": upload.exporter,
        "reason": upload.reason,
        "kind": upload.kind,
        "rows": len(upload.records),
        "keys": [_record_key(r) for r in upload.records],
    }


def _record_key(record: Any) -> str | None:
    for attribute in ("id", "uniq_id", "client_id", "yclid"):
        value = getattr(record, attribute, None)
        if value is not None:
            return str(value)
    return None


def _ad_costs(result: SimulationResult) -> bytes:
    """Clicks and their cost per local day, source and campaign, for paid sources."""
    cal, columns = result.calendar, result.visits.columns
    cpc = np.array([_source(result, i).cost_per_click for i in range(len(result.source_names))])
    paid = cpc[columns["source"]] > 0
    starts = columns["start"][paid]
    midnights = np.array([cal.unix(d * 86400.0) for d in range(cal.days + 2)])
    day = np.searchsorted(midnights, starts, side="right") - 1
    source = columns["source"][paid].astype(np.int64)
    campaign = columns["campaign"][paid].astype(np.int64) + 1
    keys, clicks = np.unique(np.stack([day, source, campaign]), axis=1, return_counts=True)
    rows = []
    for (d, s, c), n in zip(keys.T.tolist(), clicks.tolist(), strict=True):
        spec = _source(result, s)
        rows.append(
            (
                cal.local(d * 86400.0).date().isoformat(),
                result.source_names[s],
                spec.campaigns[c - 1] if c > 0 else "",
                n,
                f"{n * spec.cost_per_click:.2f}",
            )
        )
    return _csv(("date", "source", "campaign", "clicks", "cost"), rows)


def _source(result: SimulationResult, index: int) -> Source:
    return result.settings.simulation.sources[result.source_names[index]]


def _csv(header: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _jsonl(items: Iterable[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(i, ensure_ascii=False, sort_keys=True) + "\n" for i in items).encode()


def _json_bytes(document: Any) -> bytes:
    return (json.dumps(document, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode()
