# piggy-mcp for production: streamable HTTP on port 8000, bearer-token authentication required.
#   docker run -p 8000:8000 -e PIGGY_API_KEY -e PIGGY_MCP_AUTH_TOKENS -e PIGGY_MCP_SIGNING_KEY piggy-mcp
# Without PIGGY_MCP_AUTH_TOKENS the container refuses to start. See README.md, "Host it over HTTP".
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    PIGGY_MCP_STATE_DIR=/var/lib/piggy-mcp

WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY piggy_mcp ./piggy_mcp
# Installed as .ci/run does: pip into a fresh virtual environment, from the project directory.
# The code stays owned by root: the server cannot modify itself.
RUN python -m venv /opt/venv && pip install --no-cache-dir -q ".[redis,metrics]" \
    && useradd --system --no-create-home --uid 10001 --user-group --shell /usr/sbin/nologin piggy \
    && install -d -o 10001 -g 10001 -m 0700 /var/lib/piggy-mcp
# One container remembers used confirmation tokens in its state directory (mount a volume there to keep them
# across restarts); replicas share them through Redis: set PIGGY_MCP_REDIS_URL.

# Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
EXPOSE 8000

# No curl in slim images: Python checks /healthz (open, no token needed).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# On SIGTERM (docker stop, Kubernetes) calls in flight get up to 20 s to finish.
STOPSIGNAL SIGTERM
CMD ["piggy-mcp", "--transport", "http", "--host", "0.0.0.0", "--port", "8000"]
