import atexit
import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "joinedup.settings")
application = get_wsgi_application()
# What start-up loaded lives as long as the process: keep it out of the cycle collector's
# full passes, which otherwise walk all of it every so often in the middle of a request
# (75 ms each in a week of a service's diary), and hand it back for the exit.
gc.freeze()
atexit.register(gc.unfreeze)
