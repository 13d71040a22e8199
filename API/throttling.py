from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class SynthesisUserThrottle(UserRateThrottle):
    scope = "synthesis_user"


class SynthesisAnonThrottle(AnonRateThrottle):
    scope = "synthesis_anon"
