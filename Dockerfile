FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app

COPY pyproject.toml constraints.txt README.md ./
COPY config ./config
COPY claims ./claims
COPY sources ./sources
COPY api ./api
COPY templates ./templates
COPY static ./static
COPY manage.py ./
RUN pip install --no-cache-dir --constraint constraints.txt . \
    && useradd --system --no-create-home claimtrail

# collectstatic needs settings, which need a secret; this one is thrown away with the layer.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput

USER claimtrail
EXPOSE 8000
# Threads (config/gunicorn.py): a slow client's large export holds one thread, not a worker.
# Migrations are a step of their own (docker-compose.yml: migrate), never run by each server.
CMD ["gunicorn", "config.wsgi", "-c", "python:config.gunicorn"]
