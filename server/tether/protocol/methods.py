"""The names of the contract's commands, requests and notifications.

Free of imports, so the server can register every command before the modules that
implement them are loaded.
"""

from __future__ import annotations

PROPOSE = "tether.propose"
ACCEPT = "tether.accept"
REJECT = "tether.reject"
TRAIN_NOW = "tether.trainNow"
CANCEL_TRAINING = "tether.cancelTraining"
VERIFY = "tether.verify"
PIN = "tether.pin"
SHOW_DIFF = "tether.showDiff"
ASK = "tether.ask"  # a request in the user's own words on a range
REGENERATE = "tether.regenerate"  # another answer instead of a shown proposal
REFINE = "tether.refine"  # another answer, told what to change (the words are the reason)
# settle a decision made through `tether serve`: confirm, overturn or discard it (issue 15)
REVIEW_PRODUCTION = "tether.reviewProduction"
COMMANDS = (
    PROPOSE,
    ACCEPT,
    REJECT,
    TRAIN_NOW,
    CANCEL_TRAINING,
    VERIFY,
    PIN,
    SHOW_DIFF,
    ASK,
    REGENERATE,
    REFINE,
    REVIEW_PRODUCTION,
)

HISTORY = "tether/history"
PROFILE = "tether/profile"
PROPOSAL = "tether/proposal"
STATUS = "tether/status"
# decisions made through `tether serve`, each with its review, and their tally (issue 15)
PRODUCTION = "tether/production"
# students the model setting can name here: embedded, local engines, the published agent
STUDENTS = "tether/students"
REQUESTS = (HISTORY, PROFILE, PROPOSAL, STATUS, PRODUCTION, STUDENTS)

DECISION_RECORDED = "tether/decisionRecorded"
TRAINING_STATUS = "tether/trainingStatus"
NOTIFICATIONS = (DECISION_RECORDED, TRAINING_STATUS)
