"""URLs of the standalone broker process: the broker's routes, and Ably's 40400 for every other path.

Nothing else is served by that process, so no path can belong to a site page.
"""

from django.urls import re_path

from broker.rest import service
from broker.urls import urlpatterns as broker_urlpatterns

urlpatterns = [*broker_urlpatterns, re_path(r"^.*$", service.unsupported, name="broker-not-found")]
