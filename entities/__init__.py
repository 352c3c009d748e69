"""The agents of the simulation: patients, doctors and hospitals (``attrs`` classes).

Entities hold their own state and make their own decisions; they never write tables or files.
"""

from entities.doctor import Doctor
from entities.hospital import Hospital, RoomPool
from entities.patient import Patient

__all__ = ["Doctor", "Hospital", "Patient", "RoomPool"]
