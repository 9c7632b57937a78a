# piggy-mcp in a container. The default command serves stdio (for `docker run -i` from a desktop client);
# pass `piggy-mcp --transport http --host 0.0.0.0` to serve streamable HTTP on port 8000.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH

WORKDIR /app
COPY pyproject.toml README.md ./
COPY piggy_mcp ./piggy_mcp
# Installed as .ci/run does: pip into a fresh virtual environment, from the project directory.
RUN python -m venv /opt/venv && pip install --no-cache-dir -q . \
    && useradd --create-home --uid 10001 piggy

USER piggy
EXPOSE 8000
CMD ["piggy-mcp"]
