"""Regimens built from other regimens: retreatment courses (:func:`retreatment`)."""

from __future__ import annotations

from dataclasses import replace

from blinapk.dosing._spec import _number
from blinapk.dosing.regimen import AnyRegimen, CycleSpec, Regimen, WeightBasedRegimen
from blinapk.errors import ModelSpecError

__all__ = ["retreatment"]


def _repeat(course: Regimen, n_courses: int, gap_days: float, name: str) -> Regimen:
    blocks, k = [], 1
    for j in range(n_courses):
        for c in range(1, course.n_cycles + 1):
            spec = course.cycle_spec(c)
            last_of_course = c == course.n_cycles and j < n_courses - 1
            off = gap_days if last_of_course else spec.off_days
            blocks.append(CycleSpec(k, k, spec.steps, spec.on_days, off))
            k += 1
    source = (f"{n_courses} courses of {course.name!r} ({course.n_cycles} cycle(s) each), "
              f"{gap_days:g} days between the end of one course's last infusion and the next "
              f"course; every course repeats its cycle-1 steps. Course: {course.source}")
    return Regimen(name, tuple(blocks), n_cycles=k - 1, interruptions=course.interruptions,
                   bag_hours=course.bag_hours, source=source)


def retreatment(course: AnyRegimen, *, gap_days: float, n_courses: int = 2,
                name: str | None = None) -> AnyRegimen:
    """Give a course of treatment again after a treatment-free gap.

    Blinatumomab is given again to patients who relapse after responding;
    each course starts with the first cycle (and its step dose) again.

    Parameters
    ----------
    course : Regimen or WeightBasedRegimen
        One course, with the number of cycles it gives (``n_cycles``).
    gap_days : float
        Days from the end of the last infusion of one course to the start of
        the next (replaces that cycle's treatment-free interval; >= 0).
    n_courses : int, default 2
        Number of courses (>= 1).
    name : str, optional
        Name of the result (default ``<course>_x<n_courses>``).

    Returns
    -------
    Regimen or WeightBasedRegimen
        Cycles numbered on from course to course (course 2 of a 2-cycle
        regimen gives cycles 3 and 4); both arms of a weight-based regimen.

    Examples
    --------
    >>> from blinapk.dosing import get_preset
    >>> r = retreatment(get_preset("adult_rr", n_cycles=1), gap_days=180)
    >>> r.n_cycles, [s.dose for s in r.cycle_spec(2).steps], r.cycle_spec(1).off_days
    (2, [9.0, 28.0], 180.0)
    """
    n_courses = int(n_courses)
    if n_courses < 1:
        raise ModelSpecError(f"n_courses must be >= 1, got {n_courses}")
    gap_days = _number(gap_days, "gap_days", low=0.0, strict=False)
    label = name or f"{course.name}_x{n_courses}"
    if isinstance(course, WeightBasedRegimen):
        return replace(course, name=label,
                       adult=_repeat(course.adult, n_courses, gap_days, f"{label}_adult"),
                       paediatric=_repeat(course.paediatric, n_courses, gap_days,
                                          f"{label}_paediatric"),
                       source=f"{n_courses} courses, {gap_days:g}-day gaps. {course.source}")
    return _repeat(course, n_courses, gap_days, label)
