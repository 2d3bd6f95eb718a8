#!/usr/bin/env python3
"""Deterministic generator of an Apache/nginx combined-format access log.

Usage: gen_access.py OUT_PATH [SIZE_MB]

Realistic mix: a few thousand client addresses (some IPv6), skewed paths with
query strings, methods, status codes (mostly 200, some 3xx/4xx, ~1% 5xx), "-"
byte counts on 304s, referrers and user agents with quotes and spaces.
"""
import random
import sys
import time

def main():
    out = sys.argv[1]
    size = int(float(sys.argv[2] if len(sys.argv) > 2 else 500) * 1_000_000)
    rng = random.Random(20261128)
    clients = [f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}" for _ in range(3000)]
    clients += [f"2001:db8::{rng.randint(1, 65535):x}" for _ in range(200)]
    users = ["-"] * 20 + ["alice", "bob", "carol"]
    paths = [f"/api/v{rng.randint(1, 2)}/{w}/{rng.randint(1, 99999)}" for w in ["orders", "users", "items", "search"] for _ in range(50)]
    paths += ["/", "/index.html", "/static/app.js", "/static/site.css", "/favicon.ico", "/robots.txt", "/login"]
    weights = [1.0 / (i + 1) for i in range(len(paths))]
    methods = ["GET"] * 85 + ["POST"] * 10 + ["PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"]
    statuses = [200] * 850 + [304] * 60 + [301, 302] * 10 + [404] * 40 + [400, 401, 403] * 5 + [500, 502, 503, 504] * 3
    refs = ["-", "https://example.com/", "https://www.google.com/search?q=evq+logs", "https://news.example.org/item?id=42"]
    agents = [
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
        "curl/8.4.0",
        "Googlebot/2.1 (+http://www.google.com/bot.html)",
        'Agent with \\"quotes\\" inside/1.0',
    ]
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    t = 1_793_491_200  # 2026-11-01T00:00:00Z
    written = 0
    with open(out, "w", encoding="utf-8") as f:
        batch = []
        while written < size:
            for _ in range(2000):
                t += rng.random() * 0.02
                tm = time.gmtime(t)
                stamp = f"{tm.tm_mday:02d}/{months[tm.tm_mon - 1]}/{tm.tm_year}:{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} +0000"
                path = rng.choices(paths, weights)[0]
                if rng.random() < 0.3:
                    path += f"?page={rng.randint(1, 50)}&sort=desc"
                status = rng.choice(statuses)
                size_field = "-" if status == 304 else str(int(rng.paretovariate(1.2) * 300))
                line = (f'{rng.choice(clients)} - {rng.choice(users)} [{stamp}] "{rng.choice(methods)} {path} HTTP/1.1" '
                        f'{status} {size_field} "{rng.choice(refs)}" "{rng.choice(agents)}"\n')
                batch.append(line)
                written += len(line)
            f.write("".join(batch))
            batch.clear()

if __name__ == "__main__":
    main()
