"""The seed's contact flow written the seed's way (FastAPI + httpx), for scripts/bench-workflows:
one pooled httpx.AsyncClient, the agent call, CMS and CRM together with asyncio.gather, the
notification when the score is above 80. Backends come from AGENTS/CMS/CRM/NOTIFY (base URLs).
Nothing is stored: the gateway's runs are durable, this one's are not.

  uvicorn --app-dir scripts/bench-fixtures seed_contact:app --port PORT --log-level warning
"""
import asyncio
import os

import httpx
from fastapi import FastAPI, Request

app = FastAPI()
client = httpx.AsyncClient(limits=httpx.Limits(max_connections=256, max_keepalive_connections=256), timeout=15)
AGENTS, CMS, CRM, NOTIFY = (os.environ[k] for k in ("AGENTS", "CMS", "CRM", "NOTIFY"))


@app.post("/api/brain/contact/submit")
async def submit_contact(request: Request):
    data = await request.json()
    score = (await client.post(f"{AGENTS}/execute", json={"agent": "lead-scoring-agent", "action": "calculate_score", "data": data})).json()["score"]
    cms, crm = await asyncio.gather(
        client.post(f"{CMS}/forms/submit", json=data),
        client.post(f"{CRM}/leads/create", json={**data, "score": score, "source": "website"}),
    )
    lead = crm.json()
    if score > 80:
        await client.post(f"{NOTIFY}/alerts/high-value-lead", json=lead)
    return {"success": True, "lead_id": lead["id"], "score": score, "priority": "high" if score > 80 else "normal"}
