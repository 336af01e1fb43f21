"""Video findings for the operator: list and read them, see their snapshot (people as shaded
boxes until a threat is confirmed, then blurred; never a face), confirm a threat.

Handlers only translate: the work is ``video_review.VideoReview``'s. Reads are audited, and so
is every confirmation (with the operator's note); a confirmation is published to the pipeline,
where risk raises the space's level and the alert policy its alert. A caller limited to some
smart spaces sees nothing of the others.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import FileResponse

from smartspaces.api.deps import AccessDep, ServicesDep
from smartspaces.api.guards import DENIALS, Who
from smartspaces.api.video_views import ConfirmRequest, VideoDetectionView
from smartspaces.events import Level
from smartspaces.security.access import AccessService
from smartspaces.security.policy import require_space
from smartspaces.security.roles import Principal
from smartspaces.video_review import (
    AlreadyConfirmed,
    NotConfirmable,
    Reviewed,
    UnknownFinding,
    VideoReview,
)

router = APIRouter(prefix="/api/v1/video", tags=["video"])
DetectionId = Annotated[str, Path(pattern=r"^det-[0-9a-f]{24}$")]
Name = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$"
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such video detection (or no snapshot kept)"},
    **DENIALS,
}
Reader = Annotated[Principal, Who("video.read")]


def get_review(services: ServicesDep) -> VideoReview:
    return VideoReview(services.store, services.clock, services.settings.video.snapshot_dir)


ReviewDep = Annotated[VideoReview, Depends(get_review)]


async def _found(review: VideoReview, who: Principal, detection_id: str) -> Reviewed:
    try:
        reviewed = await asyncio.to_thread(review.get, detection_id)
    except UnknownFinding as error:
        raise HTTPException(404, str(error)) from error
    require_space(who, reviewed.detection.space_id)
    return reviewed


async def _view(review: VideoReview, reviewed: Reviewed) -> VideoDetectionView:
    snapshot = await asyncio.to_thread(review.snapshot, reviewed)
    return VideoDetectionView.of(reviewed, snapshot[1] if snapshot else None)


async def _audit(
    access: AccessService, who: Principal, action: str, target: str, **details: Any
) -> None:
    await asyncio.to_thread(access.audit, who, action, target, details)


@router.get("/detections", responses=DENIALS)
async def list_detections(
    review: ReviewDep,
    access: AccessDep,
    who: Reader,
    space_id: Annotated[str | None, Query(pattern=Name)] = None,
    camera_id: Annotated[str | None, Query(pattern=Name)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[VideoDetectionView]:
    """The newest video findings first (behaviours, unattended objects, camera health), of
    the caller's spaces, optionally of one space or camera. The read is audited."""
    if space_id is not None:
        require_space(who, space_id)
    found = await asyncio.to_thread(review.findings, limit, who.spaces, space_id, camera_id)
    views = [await _view(review, r) for r in found]
    details = {"space_id": space_id, "camera_id": camera_id, "count": len(views)}
    await _audit(access, who, "video.detections.read", "video", **details)
    return views


@router.get("/detections/{detection_id}", responses=_ERRORS)
async def get_detection(
    detection_id: DetectionId, review: ReviewDep, access: AccessDep, who: Reader
) -> VideoDetectionView:
    """One video finding with its confirmation and the alerts raised from it."""
    reviewed = await _found(review, who, detection_id)
    await _audit(access, who, "video.detection.read", detection_id)
    return await _view(review, reviewed)


@router.get(
    "/detections/{detection_id}/snapshot",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}, **_ERRORS},
)
async def get_snapshot(
    detection_id: DetectionId, review: ReviewDep, access: AccessDep, who: Reader
) -> FileResponse:
    """The finding's snapshot as JPEG: people as opaque shaded boxes until a threat is
    confirmed on it, blurred after (faces never show: each file passed a face check when it
    was written). ``X-Snapshot-View`` says which. The read is audited."""
    reviewed = await _found(review, who, detection_id)
    snapshot = await asyncio.to_thread(review.snapshot, reviewed)
    if snapshot is None:
        raise HTTPException(404, f"no snapshot is kept for {detection_id}")
    path, view = snapshot
    await _audit(access, who, "video.snapshot.read", detection_id, view=view)
    headers = {"Cache-Control": "no-store", "X-Snapshot-View": view}
    return FileResponse(path, media_type="image/jpeg", headers=headers)


@router.post(
    "/detections/{detection_id}/confirm",
    responses={
        409: {"description": "Confirmed already"},
        422: {"description": "Bad request, or a camera fault (nothing to confirm)"},
        **_ERRORS,
    },
)
async def confirm_threat(
    detection_id: DetectionId,
    body: ConfirmRequest,
    review: ReviewDep,
    services: ServicesDep,
    access: AccessDep,
    who: Annotated[Principal, Who("video.confirm")],
) -> VideoDetectionView:
    """Confirm a threat on a finding: the shading of its snapshot is lifted (people stay
    blurred), and the space's risk rises to ``level``, which raises or updates the space's
    alert (open an incident from it as from any alert). Audited with the note."""
    reviewed = await _found(review, who, detection_id)
    try:
        confirmation = await asyncio.to_thread(
            review.confirm, reviewed.detection, Level(body.level), who.name
        )
    except NotConfirmable as error:
        raise HTTPException(422, str(error)) from error
    except AlreadyConfirmed as error:
        raise HTTPException(409, str(error)) from error
    details = {"level": body.level, "note": body.note, "confirmation_id": confirmation.id}
    await _audit(access, who, "video.threat_confirmed", detection_id, **details)
    await services.runtime.publish([confirmation])
    return await _view(review, Reviewed(reviewed.detection, confirmation))
