# Insignia web, worker and beat image (see docker-compose.yml). fonts-noto-cjk draws Chinese
# text on the generated share cards (badges/preview.py).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    INSIGNIA_ENV=production

RUN apt-get update \
 && apt-get install -y --no-install-recommends curl fonts-noto-cjk xmlsec1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 insignia

WORKDIR /app
COPY pyproject.toml README.md ./
COPY insignia insignia
COPY accounts accounts
COPY issuers issuers
COPY badges badges
COPY frameworks frameworks
COPY verification verification
COPY openbadges openbadges
RUN pip install --upgrade pip && pip install .
COPY . .
# Static files are collected at build time with throwaway values for the required settings;
# nothing secret is baked into the image.
RUN SECRET_KEY=build-only INSIGNIA_KEY_ENCRYPTION_KEY=build-only \
    INSIGNIA_BASE_URL=https://build.invalid DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    CELERY_BROKER_URL=memory:// python manage.py collectstatic --noinput

USER insignia
EXPOSE 8000
CMD ["gunicorn", "insignia.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--worker-class", "gthread", "--threads", "8", "--access-logfile", "-"]
