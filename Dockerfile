# sspr behind gunicorn, as a non-root user. Mount the configuration at /etc/sspr/sspr.yaml
# and pass secrets as environment variables (SSPR_SECRET_KEY, SSPR_LDAP_PASSWORD, …).
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY . .
# The wheel carries templates/ and the compiled catalogs (see hatch_build.py).
RUN pip install --no-cache-dir build && python -m build --wheel --outdir /dist

FROM python:3.11-slim-bookworm
RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/sspr sspr \
    && mkdir -p /etc/sspr /var/log/sspr \
    && chown sspr:sspr /var/log/sspr
COPY --from=build /dist/*.whl /tmp/
RUN pip install --no-cache-dir /tmp/*.whl && rm /tmp/*.whl
USER sspr
ENV SSPR_CONFIG=/etc/sspr/sspr.yaml \
    PYTHONUNBUFFERED=1
EXPOSE 8000
# Each worker keeps one LDAP connection open; the SQLite store in /var/lib/sspr is shared
# by every worker of the container.
# Checks the configuration, then serves it: granian's workers with keep-alive, metrics
# shared by the workers, the access log on stdout (sspr/serving.py).
ENV SSPR_BIND=0.0.0.0:8000
CMD ["sspr", "serve"]
