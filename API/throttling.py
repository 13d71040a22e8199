"""Throttles: each rate applies to its own kind of client only."""
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class SynthesisUserThrottle(UserRateThrottle):
    """TTS_THROTTLE_USER, per signed-in user. DRF's UserRateThrottle would also key anonymous callers by address,
    so anonymous synthesis would be capped by the lower of the two rates; here anonymous callers are left to
    :class:`SynthesisAnonThrottle`."""

    scope = "synthesis_user"

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None  # not this throttle's kind of client
        return super().get_cache_key(request, view)


class SynthesisAnonThrottle(AnonRateThrottle):
    """TTS_THROTTLE_ANON, per client address (as Nginx resolved it), for callers who are not signed in."""

    scope = "synthesis_anon"


class ReadinessThrottle(AnonRateThrottle):
    """The public readiness probe, per client address: cheap to answer, but not a free loop for anyone."""

    scope = "readiness"
