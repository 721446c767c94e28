"""The records the pages observe: the open database and the chosen patient, with signals on every change.

A thin Qt adapter over app.records (which has no Qt): the pages never write the database themselves.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from app.records import patients as P
from app.records import sessions as S
from app.records.course import SessionMeasures, patient_course
from app.records.db import Database
from app.records.settings import CLINIC_NAME, CLINICIAN_NAME, LAST_TASK, get_setting, set_setting

log = logging.getLogger(__name__)


class RecordsState(QObject):
    patients_changed = Signal()  # a patient was added, edited or deleted
    patient_changed = Signal()  # another patient was chosen (or none)
    sessions_changed = Signal()  # the chosen patient's sessions changed

    def __init__(self, db: Database, parent: QObject | None = None):
        super().__init__(parent)
        self.db = db
        self.patient: P.Patient | None = None

    # ---- patients ----------------------------------------------------------------------------------
    def patients(self) -> list[P.Patient]:
        return P.list_patients(self.db)

    def add_patient(self, *, code: str, name: str | None = None, birth_date: str | None = None) -> P.Patient:
        patient = P.add_patient(self.db, code=code, name=name, birth_date=birth_date)
        self.patients_changed.emit()
        self.choose_patient(patient.id)
        return patient

    def update_patient(self, patient: P.Patient) -> P.Patient:
        patient = P.update_patient(self.db, patient)
        self.patients_changed.emit()
        if self.patient is not None and self.patient.id == patient.id:
            self.patient = patient
            self.patient_changed.emit()
        return patient

    def delete_patient(self, patient_id: int) -> None:
        P.delete_patient(self.db, patient_id)
        if self.patient is not None and self.patient.id == patient_id:
            self.choose_patient(None)
        self.patients_changed.emit()

    def choose_patient(self, patient_id: int | None) -> None:
        self.patient = None if patient_id is None else P.get_patient(self.db, patient_id)
        self.patient_changed.emit()

    # ---- sessions of the chosen patient ------------------------------------------------------------
    def sessions(self) -> list[S.Session]:
        return [] if self.patient is None else S.list_sessions(self.db, self.patient.id)

    def measures(self) -> list[SessionMeasures]:
        return [] if self.patient is None else patient_course(self.db, self.patient.id)

    def add_session(self, draft: S.SessionDraft, *, stored: bool = False) -> S.Session:
        session = S.add_session(self.db, draft, stored=stored)
        set_setting(self.db, LAST_TASK, session.task)
        log.info("session %d stored for patient %d", session.id, session.patient_id)
        self.sessions_changed.emit()
        return session

    def replace_review(self, session_id: int, draft: S.SessionDraft) -> S.Session:
        """Save a continued review into the stored session it came from."""
        session = S.replace_review(self.db, session_id, draft)
        log.info("review of session %d saved again", session_id)
        self.sessions_changed.emit()
        return session

    def update_session(self, session_id: int, **fields) -> S.Session:
        session = S.update_session(self.db, session_id, **fields)
        self.sessions_changed.emit()
        return session

    def delete_session(self, session_id: int) -> None:
        S.delete_session(self.db, session_id)
        self.sessions_changed.emit()

    # ---- settings --------------------------------------------------------------------------------
    @property
    def clinic_name(self) -> str:
        return get_setting(self.db, CLINIC_NAME)

    def set_clinic_name(self, name: str) -> None:
        set_setting(self.db, CLINIC_NAME, name.strip())

    @property
    def clinician_name(self) -> str:
        return get_setting(self.db, CLINICIAN_NAME)

    def set_clinician_name(self, name: str) -> None:
        set_setting(self.db, CLINICIAN_NAME, name.strip())

    @property
    def last_task(self) -> str:
        """The task of the last session stored: a new session's default."""
        return get_setting(self.db, LAST_TASK)
