"""The decision profile: per class, how likely the user is to approve, and what to do about it.

Beta–Bernoulli per decision class with an empirical-Bayes prior shared across classes and a
moving average for drift (`Profile`); the ask / auto / quiet policy (`Profile.decide`);
maturity events for the training scheduler; persistence next to the decision log
(`ProfileStore`, `rebuild`); and the views (`profile_view`, `profile_svg`).

Nothing here imports scipy at import time: the quantile function is loaded on first use.
"""

from tether.profile.models import ClassStats, MaturityEvent, Mode, PolicyDecision, PriorFit
from tether.profile.plot import profile_svg
from tether.profile.policy import PIN_MODES
from tether.profile.profile import Profile, SnapshotError
from tether.profile.store import ProfileStore, rebuild, replay
from tether.profile.view import ClassView, ProfileView, profile_view

__all__ = [
    "PIN_MODES",
    "ClassStats",
    "ClassView",
    "MaturityEvent",
    "Mode",
    "PolicyDecision",
    "PriorFit",
    "Profile",
    "ProfileStore",
    "ProfileView",
    "SnapshotError",
    "profile_svg",
    "profile_view",
    "rebuild",
    "replay",
]
