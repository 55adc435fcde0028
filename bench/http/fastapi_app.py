"""The hello endpoints on FastAPI, for bench/http/run (served by Uvicorn with uvloop + httptools).

    /usr/bin/python3 -m uvicorn fastapi_app:app --app-dir bench/http --loop uvloop --http httptools
"""

from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext():
    return "Hello, World!"


@app.get("/json", response_class=JSONResponse)
async def json():
    return {"message": "Hello, World!"}
