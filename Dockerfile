# Production-like image: gunicorn serves the web app; the same image runs the Celery worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 cx
WORKDIR /app

COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir .
COPY . .
RUN SECRET_KEY=build STATIC_MANIFEST=true CXP_EMBEDDED=true python manage.py collectstatic --no-input \
 && CXP_EMBEDDED=true python manage.py compilemessages --ignore=.venv
USER cx

EXPOSE 8000
CMD ["gunicorn", "--config", "cxplatform/gunicorn.conf.py", "cxplatform.wsgi:application"]
