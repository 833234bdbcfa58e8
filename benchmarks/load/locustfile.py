"""Office staff on the collector's pages: the sites list, a search, a site page, a diff page.

Run by benchmarks/load/run.py (headless, bounded users and time, 127.0.0.1 only). Each simulated
user signs in once through the login form, then opens pages of random sites among the seeded ones.
"""

from __future__ import annotations

import os
import random
import re

from locust import HttpUser, between, task

CSRF = re.compile(r'name="csrf" value="([^"]*)"')
SITES = int(os.environ.get("ASB_LOAD_SITES", "10000"))
USER = os.environ.get("ASB_LOAD_USER", "load-admin")
PASSWORD = os.environ.get("ASB_LOAD_PASSWORD", "load-test-password-1")
# Seconds between one user's pages, "min,max". 0.1-0.5 s is a stress (20 users ask ~60 pages/s, what
# hundreds of people reading pages would); people reading a page take seconds (run.py --think 2,8).
THINK = tuple(float(x) for x in os.environ.get("ASB_LOAD_THINK", "0.1,0.5").split(","))


class Office(HttpUser):
    wait_time = between(THINK[0], THINK[1])

    def on_start(self) -> None:
        form = self.client.get("/login", name="login").text
        match = CSRF.search(form)
        assert match, form[:200]
        data = {"csrf": match.group(1), "name": USER, "password": PASSWORD, "next": "/"}
        with self.client.post(
            "/login", data=data, name="login", allow_redirects=False, catch_response=True
        ) as r:
            if r.status_code != 303:
                r.failure(f"login: {r.status_code}")

    def _site(self) -> str:
        return f"site-{random.randrange(SITES):05d}"

    @task(2)
    def sites_list(self) -> None:
        self.client.get("/", name="sites list")

    @task(2)
    def search(self) -> None:
        self.client.get(f"/?q=Customer+{random.randrange(SITES // 10):05d}", name="search")

    @task(3)
    def site_page(self) -> None:
        self.client.get(f"/sites/{self._site()}", name="site page")

    @task(3)
    def diff_page(self) -> None:
        self.client.get(f"/sites/{self._site()}/diff", name="diff page")
