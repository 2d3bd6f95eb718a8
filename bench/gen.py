#!/usr/bin/env python3
"""Deterministic generator of realistic application events (NDJSON).

Usage: gen.py OUT_PATH [SIZE_MB] [--seed N]

Writes about SIZE_MB * 10^6 bytes (default 1000) of one-line JSON events to
OUT_PATH ("-" for stdout), cut on a line boundary. The same seed and size
always give the same bytes, and a smaller file is a prefix of a larger one.

Events have ~20 types, 30 services with Zipf-like frequencies, RFC 3339 UTC
millisecond timestamps (mostly increasing, small jitter), levels with ~5%
errors, heavy-tailed latencies (ints and floats), nested objects, arrays,
non-ASCII text, emoji, JSON escapes, missing fields and integers > 2^53.
"""

import json
import math
import random
import sys
import time

SEED = 20261101
BATCH = 20000  # events drawn and written per batch
START_MS = 1793491200000  # 2026-11-01T00:00:00.000Z

# --- vocabularies -----------------------------------------------------------

# (type, weight, median latency ms)
TYPES = [
    ("http.request", 300, 45),
    ("db.query", 150, 6),
    ("cache.hit", 100, 0.8),
    ("cache.miss", 60, 2),
    ("rpc.call", 60, 20),
    ("queue.publish", 50, 3),
    ("queue.consume", 50, 12),
    ("feature_flag.eval", 40, 0.3),
    ("auth.login", 30, 120),
    ("auth.token_refresh", 30, 25),
    ("search.query", 30, 80),
    ("health.check", 30, 2),
    ("job.start", 20, 1),
    ("job.finish", 20, 900),
    ("storage.put", 20, 60),
    ("auth.logout", 15, 8),
    ("payment.charge", 15, 350),
    ("email.send", 10, 200),
    ("user.signup", 5, 150),
    ("payment.refund", 3, 400),
]

SERVICES = [
    "api-gateway", "checkout", "catalog", "auth", "users", "search", "payments",
    "orders", "inventory", "notifications", "recommendations", "cart",
    "shipping", "billing", "reviews", "media", "analytics", "pricing",
    "fraud-detection", "loyalty", "support", "admin", "reporting", "geo",
    "translations", "webhooks", "scheduler", "exports", "audit", "sso",
]
SERVICE_WEIGHTS = [1.0 / (k ** 1.1) for k in range(1, len(SERVICES) + 1)]

LEVELS = ["debug", "info", "warn", "error"]
LEVEL_WEIGHTS = [12, 70, 13, 5]

COUNTRIES = ["DE", "FR", "US", "GB", "ES", "IT", "NL", "PL", "BR", "JP", "IN", "CN", "RU", "SE", "CA", "MX"]
COUNTRY_WEIGHTS = [14, 10, 25, 9, 6, 5, 4, 3, 5, 4, 5, 3, 2, 2, 2, 1]
PLANS = ["free", "pro", "team", "enterprise"]
PLAN_WEIGHTS = [60, 25, 10, 5]
NAMES = [
    "Jürgen Müller", "Zoë Saldaña", "José Álvarez", "François Lefèvre", "Søren Kierkegård",
    "Łukasz Wąsik", "Ана Петрова", "Дмитрий Иванов", "山田太郎", "王小明", "김민준",
    "Αλέξανδρος Παπαδόπουλος", "Ayşe Yılmaz", "Nguyễn Văn An", "محمد علي", "דוד כהן",
    "Alice Smith", "Bob O'Neil", "Chloé \"Coco\" Martin", "Renée Østergaard",
]
TAGS = ["canary", "beta", "mobile", "web", "ios", "android", "internal", "retry",
        "cold-start", "cached", "batch", "critical", "experiment-42", "α-test", "🚀launch"]
HTTP_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]
HTTP_METHOD_WEIGHTS = [70, 18, 5, 4, 3]
HTTP_PATHS = [
    "/api/v1/users/{}", "/api/v1/users/{}/orders", "/api/v1/products/{}", "/api/v1/cart",
    "/api/v1/checkout", "/api/v2/search", "/api/v1/orders/{}/items", "/healthz",
    "/api/v1/sessions", "/static/img/{}.png", "/api/v1/reviews/{}", "/graphql",
    "/api/v1/payments/{}/capture", "/api/v1/recommendations", "/api/v1/inventory/{}",
]
HTTP_STATUS = [200, 201, 204, 301, 304, 400, 401, 403, 404, 409, 429, 500, 502, 503, 504]
HTTP_STATUS_WEIGHTS = [700, 40, 30, 5, 30, 25, 15, 8, 40, 5, 8, 10, 3, 4, 2]
DB_TABLES = ["users", "orders", "order_items", "products", "sessions", "payments", "inventory", "audit_log"]
DB_OPS = ["SELECT", "SELECT", "SELECT", "INSERT", "UPDATE", "DELETE"]
QUEUES = ["orders.created", "payments.settled", "emails.outbox", "search.reindex", "audit.events"]
FLAGS = ["new-checkout", "dark-mode", "reco-v2", "fast-search", "bulk-export"]
CURRENCIES = ["EUR", "USD", "GBP", "JPY", "BRL", "PLN"]
SEARCH_QUERIES = ["laptop", "café crème", "schuhe größe 42", "naïve art print", "東京 ホテル",
                  "подарок", "🎧 headphones", "\"exact phrase\"", "c:\\path", "smørrebrød"]

# Message fragments: plain ASCII, non-ASCII, emoji and text needing escapes.
MSG_BASE = {
    "http.request": ["request completed", "request failed", "upstream timeout", "served from edge",
                     "Anfrage abgeschlossen für Benutzer «{name}»", "réponse envoyée ✅"],
    "db.query": ["query executed", "slow query: SELECT * FROM \"orders\" WHERE id = $1",
                 "deadlock detected; retrying", "connection pool exhausted",
                 "requête terminée en {n} ms"],
    "cache.hit": ["cache hit", "hit for key user:{n}", "キャッシュヒット"],
    "cache.miss": ["cache miss", "miss for key \"session:{n}\"", "缓存未命中"],
    "rpc.call": ["rpc ok", "rpc deadline exceeded", "grpc status UNAVAILABLE", "вызов завершён"],
    "queue.publish": ["message published", "published to {q}", "backpressure ⚠️ on {q}"],
    "queue.consume": ["message consumed", "redelivery #{n}", "poison message moved to DLQ"],
    "feature_flag.eval": ["flag evaluated", "variant chosen: \"{v}\""],
    "auth.login": ["login succeeded for {name}", "login failed: bad password", "MFA challenge sent 📱",
                   "Anmeldung fehlgeschlagen für „{name}“"],
    "auth.token_refresh": ["token refreshed", "refresh token expired"],
    "search.query": ["search served", "zero results for \"{sq}\"", "búsqueda completada"],
    "health.check": ["ok", "degraded: disk 91% full", "💚 healthy"],
    "job.start": ["job started", "job {n} started on worker-{w}"],
    "job.finish": ["job finished", "job failed:\nTraceback (most recent call last):\n  File \"worker.py\", line {n}\nValueError: bad input",
                   "export written to C:\\exports\\report-{n}.csv"],
    "storage.put": ["object stored", "multipart upload complete", "upload to s3://bucket/{n}/file.bin\tdone"],
    "auth.logout": ["logout", "session ended for {name}"],
    "payment.charge": ["charge succeeded 💳", "card declined: insufficient funds", "charge of {amt} € captured",
                       "3-D Secure required"],
    "email.send": ["email queued", "bounce from <{name}@example.com>", "Willkommen, {name}! 🎉"],
    "user.signup": ["new user signed up", "welcome {name} 👋", "signup via referral \u00e9t\u00e9"],
    "payment.refund": ["refund issued", "refund of {amt} € failed: gateway error"],
}


def build_msg_pools(rng):
    """Precompute a pool of rendered messages per event type."""
    pools = {}
    for t, templates in MSG_BASE.items():
        pool = []
        for _ in range(400):
            tpl = rng.choice(templates)
            pool.append(tpl.format(
                name=rng.choice(NAMES), n=rng.randint(1, 99999), q=rng.choice(QUEUES),
                v=rng.choice(["control", "A", "B"]), w=rng.randint(1, 64),
                sq=rng.choice(SEARCH_QUERIES), amt=f"{rng.uniform(1, 500):.2f}"))
        pools[t] = pool
    return pools


def cum(weights):
    out, s = [], 0.0
    for w in weights:
        s += w
        out.append(s)
    return out


# --- generator --------------------------------------------------------------

class Gen:
    def __init__(self, seed):
        self.rng = rng = random.Random(seed)
        self.msgs = build_msg_pools(rng)
        self.type_names = [t[0] for t in TYPES]
        self.type_cw = cum([t[1] for t in TYPES])
        self.type_mu = {t[0]: math.log(t[2]) for t in TYPES}
        self.service_cw = cum(SERVICE_WEIGHTS)
        self.level_cw = cum(LEVEL_WEIGHTS)
        self.country_cw = cum(COUNTRY_WEIGHTS)
        self.plan_cw = cum(PLAN_WEIGHTS)
        self.method_cw = cum(HTTP_METHOD_WEIGHTS)
        self.status_cw = cum(HTTP_STATUS_WEIGHTS)
        self.hosts = {s: [f"{s}-{i:02d}" for i in range(1, 9)] for s in SERVICES}
        self.clock = START_MS
        self.seq = 0
        self.sec_cache = (None, "")
        self.recent_ids = []
        self.enc = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        self.enc_ascii = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode

    def fmt_ts(self, ms):
        sec, milli = divmod(ms, 1000)
        if self.sec_cache[0] != sec:
            self.sec_cache = (sec, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)))
        return f"{self.sec_cache[1]}.{milli:03d}Z"

    def latency(self, mu, level):
        r = self.rng
        x = r.lognormvariate(mu, 1.3)
        if level == "error":
            x *= 8  # errors are slow (timeouts, retries)
        if r.random() < 0.02:
            x *= 50  # rare stalls: heavy tail
        if r.random() < 0.4:
            return round(x, 3)
        return int(x)

    def batch(self):
        """Return a list of BATCH encoded lines (str, without newline)."""
        r = self.rng
        rand = r.random
        randint = r.randint
        choice = r.choice
        n = BATCH
        types = r.choices(self.type_names, cum_weights=self.type_cw, k=n)
        services = r.choices(SERVICES, cum_weights=self.service_cw, k=n)
        levels = r.choices(LEVELS, cum_weights=self.level_cw, k=n)
        countries = r.choices(COUNTRIES, cum_weights=self.country_cw, k=n)
        plans = r.choices(PLANS, cum_weights=self.plan_cw, k=n)
        out = []
        for i in range(n):
            t = types[i]
            svc = services[i]
            lvl = levels[i]
            self.seq += 1
            self.clock += int(r.expovariate(0.1))  # ~10 ms between events
            ms = self.clock
            if rand() < 0.1:
                ms -= randint(1, 250)  # small out-of-order jitter

            # Event id: unique hex, with ~0.5% re-deliveries of a recent id.
            if self.recent_ids and rand() < 0.005:
                eid = choice(self.recent_ids)
            else:
                eid = f"evt_{self.seq * 2654435761 % (1 << 48):012x}"
                if self.seq % 97 == 0:
                    self.recent_ids = self.recent_ids[-63:] + [eid]

            ev = {
                "ts": self.fmt_ts(ms),
                "level": lvl,
                "type": t,
                "service": svc,
                "host": choice(self.hosts[svc]),
                "id": eid,
                "msg": choice(self.msgs[t]),
                "latency_ms": self.latency(self.type_mu[t], lvl),
            }
            if rand() < 0.02:
                ev["trace_id"] = randint(1 << 53, (1 << 64) - 1)  # big integer
            else:
                ev["trace_id"] = f"{randint(0, (1 << 64) - 1):016x}"

            if rand() < 0.9:
                user = {"id": randint(1, 10_000), "country": countries[i], "plan": plans[i]}
                if rand() < 0.2:
                    user["name"] = choice(NAMES)
                ev["user"] = user

            if t == "http.request":
                status = r.choices(HTTP_STATUS, cum_weights=self.status_cw)[0]
                if lvl == "error" and status < 500:
                    status = choice((500, 502, 503, 504))
                path = choice(HTTP_PATHS)
                if "{}" in path:
                    path = path.format(randint(1, 99999))
                ev["status"] = status
                ev["http"] = {
                    "method": r.choices(HTTP_METHODS, cum_weights=self.method_cw)[0],
                    "path": path,
                    "status": status,
                    "bytes": int(r.lognormvariate(8, 1.5)),
                }
            elif t == "db.query":
                op = choice(DB_OPS)
                ev["db"] = {"system": "postgresql", "table": choice(DB_TABLES), "op": op,
                            "rows": int(r.lognormvariate(1, 2))}
            elif t == "cache.hit" or t == "cache.miss":
                ev["cache"] = {"key": f"user:{randint(1, 2_000_000)}:profile", "ttl_s": choice((30, 60, 300, 3600))}
            elif t == "rpc.call":
                ev["rpc"] = {"method": f"{choice(SERVICES)}.Get", "code": "OK" if lvl != "error" else "UNAVAILABLE"}
            elif t == "queue.publish" or t == "queue.consume":
                off = randint(0, 10_000_000) if rand() < 0.97 else randint(1 << 53, 1 << 62)
                ev["queue"] = {"name": choice(QUEUES), "partition": randint(0, 31), "offset": off}
            elif t == "feature_flag.eval":
                ev["flag"] = {"name": choice(FLAGS), "variant": choice(("control", "A", "B")), "enabled": rand() < 0.5}
            elif t.startswith("auth."):
                ev["auth"] = {"method": choice(("password", "sso", "oauth", "passkey")),
                              "success": lvl != "error", "mfa": rand() < 0.3}
                ev["ip"] = f"{randint(1, 223)}.{randint(0, 255)}.{randint(0, 255)}.{randint(1, 254)}"
            elif t == "search.query":
                ev["search"] = {"q": choice(SEARCH_QUERIES), "results": int(r.lognormvariate(3, 1.5))}
            elif t.startswith("job."):
                ev["job"] = {"name": choice(("export", "reindex", "cleanup", "billing-run")), "attempt": randint(1, 3)}
            elif t == "storage.put":
                ev["storage"] = {"bucket": "media-prod", "size": int(r.lognormvariate(12, 2))}
            elif t.startswith("payment."):
                ev["payment"] = {"amount": round(r.lognormvariate(3.5, 1.0), 2), "currency": choice(CURRENCIES),
                                 "provider": choice(("stripe", "adyen", "paypal"))}
            elif t == "email.send":
                ev["email"] = {"template": choice(("welcome", "receipt", "reset-password")), "provider": "ses"}

            k = randint(0, 5)
            if k < 4:
                ev["tags"] = r.sample(TAGS, k)

            # Most lines keep raw UTF-8; ~5% use \uXXXX escapes for non-ASCII.
            out.append(self.enc_ascii(ev) if rand() < 0.05 else self.enc(ev))
        return out


def main(argv):
    args = [a for a in argv[1:]]
    seed = SEED
    if "--seed" in args:
        i = args.index("--seed")
        seed = int(args[i + 1])
        del args[i:i + 2]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    path = args[0]
    size_mb = float(args[1]) if len(args) > 1 else 1000.0
    target = int(size_mb * 1_000_000)

    gen = Gen(seed)
    out = sys.stdout.buffer if path == "-" else open(path, "wb")
    written = lines = 0
    t0 = time.time()
    try:
        while written < target:
            batch = gen.batch()
            data = ("\n".join(batch) + "\n").encode("utf-8")
            if written + len(data) > target:
                # Last batch: stop at the first line that reaches the target.
                parts = []
                for line in batch:
                    b = (line + "\n").encode("utf-8")
                    parts.append(b)
                    written += len(b)
                    lines += 1
                    if written >= target:
                        break
                out.write(b"".join(parts))
                break
            out.write(data)
            written += len(data)
            lines += len(batch)
    finally:
        if out is not sys.stdout.buffer:
            out.close()
    dt = time.time() - t0
    print(f"gen.py: {lines} lines, {written} bytes, avg {written / max(lines, 1):.1f} B/line, "
          f"{dt:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
