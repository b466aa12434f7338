"""MMS code tables (ISO 9506-2): PDU choices, confirmed and unconfirmed
services with the operation each is reported as, error classes, reject
reasons and the Identify response's fields. Read by ``mms``."""

from __future__ import annotations

from typing import Final

__all__ = [
    "ERROR_CLASSES",
    "IDENTIFY_FIELDS",
    "PDU_NAMES",
    "REJECT_REASONS",
    "SERVICES",
    "SESSION_ERRORS",
    "SESSION_REQUESTS",
    "UNCONFIRMED",
]

# MMSpdu choice (ISO 9506-2 section 7.1) -> name
PDU_NAMES: Final[dict[int, str]] = {
    0: "confirmed-Request",
    1: "confirmed-Response",
    2: "confirmed-Error",
    3: "unconfirmed",
    4: "reject",
    5: "cancel",
    6: "cancel-Response",
    7: "cancel-Error",
    8: "initiate",
    9: "initiate-Response",
    10: "initiate-Error",
    11: "conclude",
    12: "conclude-Response",
    13: "conclude-Error",
}
SESSION_REQUESTS: Final = frozenset({5, 8, 11})
SESSION_ERRORS: Final = frozenset({7, 10, 13})

# ConfirmedServiceRequest choice (ISO 9506-2 section 7.3) -> (name, operation)
SERVICES: Final[dict[int, tuple[str, str]]] = {
    0: ("status", "diagnostic"),
    1: ("getNameList", "read"),
    2: ("identify", "identify"),
    3: ("rename", "config_change"),
    4: ("read", "read"),
    5: ("write", "write"),
    6: ("getVariableAccessAttributes", "read"),
    7: ("defineNamedVariable", "config_change"),
    8: ("defineScatteredAccess", "config_change"),
    9: ("getScatteredAccessAttributes", "read"),
    10: ("deleteVariableAccess", "config_change"),
    11: ("defineNamedVariableList", "config_change"),
    12: ("getNamedVariableListAttributes", "read"),
    13: ("deleteNamedVariableList", "config_change"),
    14: ("defineNamedType", "config_change"),
    15: ("getNamedTypeAttributes", "read"),
    16: ("deleteNamedType", "config_change"),
    17: ("input", "read"),
    18: ("output", "write"),
    19: ("takeControl", "control"),
    20: ("relinquishControl", "control"),
    21: ("defineSemaphore", "config_change"),
    22: ("deleteSemaphore", "config_change"),
    23: ("reportSemaphoreStatus", "read"),
    24: ("reportPoolSemaphoreStatus", "read"),
    25: ("reportSemaphoreEntryStatus", "read"),
    26: ("initiateDownloadSequence", "program_download"),
    27: ("downloadSegment", "program_download"),
    28: ("terminateDownloadSequence", "program_download"),
    29: ("initiateUploadSequence", "program_upload"),
    30: ("uploadSegment", "program_upload"),
    31: ("terminateUploadSequence", "program_upload"),
    32: ("requestDomainDownload", "program_download"),
    33: ("requestDomainUpload", "program_upload"),
    34: ("loadDomainContent", "program_download"),
    35: ("storeDomainContent", "program_upload"),  # domain -> file: out of the device
    36: ("deleteDomain", "block_delete"),
    37: ("getDomainAttributes", "read"),
    38: ("createProgramInvocation", "config_change"),
    39: ("deleteProgramInvocation", "config_change"),
    40: ("start", "plc_start"),
    41: ("stop", "plc_stop"),
    42: ("resume", "plc_start"),
    43: ("reset", "restart"),
    44: ("kill", "plc_stop"),
    45: ("getProgramInvocationAttributes", "read"),
    46: ("obtainFile", "file_write"),
    47: ("defineEventCondition", "config_change"),
    48: ("deleteEventCondition", "config_change"),
    49: ("getEventConditionAttributes", "read"),
    50: ("reportEventConditionStatus", "read"),
    51: ("alterEventConditionMonitoring", "config_change"),
    52: ("triggerEvent", "control"),
    53: ("defineEventAction", "config_change"),
    54: ("deleteEventAction", "config_change"),
    55: ("getEventActionAttributes", "read"),
    56: ("reportEventActionStatus", "read"),
    57: ("defineEventEnrollment", "config_change"),
    58: ("deleteEventEnrollment", "config_change"),
    59: ("alterEventEnrollment", "config_change"),
    60: ("reportEventEnrollmentStatus", "read"),
    61: ("getEventEnrollmentAttributes", "read"),
    62: ("acknowledgeEventNotification", "write"),
    63: ("getAlarmSummary", "read"),
    64: ("getAlarmEnrollmentSummary", "read"),
    65: ("readJournal", "read"),
    66: ("writeJournal", "write"),
    67: ("initializeJournal", "config_change"),
    68: ("reportJournalStatus", "read"),
    69: ("createJournal", "config_change"),
    70: ("deleteJournal", "config_change"),
    71: ("getCapabilityList", "read"),
    72: ("fileOpen", "file_read"),
    73: ("fileRead", "file_read"),
    74: ("fileClose", "file_read"),
    75: ("fileRename", "file_write"),
    76: ("fileDelete", "file_write"),
    77: ("fileDirectory", "file_read"),
}

# UnconfirmedService choice (section 7.4) -> name; all are ``notify``
UNCONFIRMED: Final[dict[int, str]] = {
    0: "informationReport",
    1: "unsolicitedStatus",
    2: "eventNotification",
}

# ServiceError.errorClass choice (section 7.5.2) -> name
ERROR_CLASSES: Final[dict[int, str]] = {
    0: "vmd-state",
    1: "application-reference",
    2: "definition",
    3: "resource",
    4: "service",
    5: "service-preempt",
    6: "time-resolution",
    7: "access",
    8: "initiate",
    9: "conclude",
    10: "cancel",
    11: "file",
    12: "others",
}

# RejectPDU.rejectReason choice (section 7.6) -> the kind of PDU rejected
REJECT_REASONS: Final[dict[int, str]] = {
    1: "confirmed-requestPDU",
    2: "confirmed-responsePDU",
    3: "confirmed-errorPDU",
    4: "unconfirmedPDU",
    5: "pdu-error",
    6: "cancel-requestPDU",
    7: "cancel-responsePDU",
    8: "cancel-errorPDU",
    9: "conclude-requestPDU",
    10: "conclude-responsePDU",
    11: "conclude-errorPDU",
}

# Identify-Response fields (section 10.3) -> identity attributes
IDENTIFY_FIELDS: Final[dict[int, tuple[str, ...]]] = {
    0: ("vendor",),
    1: ("model", "product"),  # modelName names the product line: both lookups find it
    2: ("firmware",),
}
