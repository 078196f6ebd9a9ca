import json
from dataclasses import asdict

from django.core.management.base import BaseCommand, CommandError

from joinedup.record.demo import (
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    accounts_beside_demo,
    build_demo_hub,
    demo_logins,
    is_loaded,
    refusal,
)


class Command(BaseCommand):
    help = "Load the deterministic demo hub (once) and print how to log in as each role."

    def add_arguments(self, parser):
        parser.add_argument("--logins-json", metavar="FILE", help="Also write the logins as JSON.")

    def handle(self, *args, logins_json=None, **options):
        if others := accounts_beside_demo():
            raise CommandError(refusal(others))
        if is_loaded():
            self.stdout.write("The demo hub is already loaded.")
        else:
            build_demo_hub()
            self.stdout.write(self.style.SUCCESS("Loaded the demo hub."))
        logins = demo_logins()
        self.stdout.write(f"\nPassword for every demo login: {DEMO_PASSWORD}")
        self.stdout.write(
            f"Staff second factor: add TOTP secret {DEMO_TOTP_SECRET} to an authenticator app.\n"
        )
        width = max(len(login.email) for login in logins)
        self.stdout.write(f"{'role':<16} {'email':<{width}}  service or department")
        for login in logins:
            self.stdout.write(f"{login.role:<16} {login.email:<{width}}  {login.service}")
        if logins_json:
            rows = [
                asdict(login)
                | {
                    "password": DEMO_PASSWORD,
                    "totp_secret": "" if login.role == "student" else DEMO_TOTP_SECRET,
                }
                for login in logins
            ]
            with open(logins_json, "w") as handle:
                json.dump(rows, handle, indent=2)
            self.stdout.write(f"\nWrote {len(rows)} logins to {logins_json}")
