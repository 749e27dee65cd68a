# distillguard gateway: non-root (uid 10001), runs on a read-only root filesystem,
# `gateway serve` entry point. Build: docker build -t distillguard .
#
# BASE is any Debian-like image with python3 >= 3.11 and its venv module; the default is the
# official Python image. scripts/image-test.sh builds on a base made from Debian packages.
# pip inside the build uses PyPI; pass PIP_INDEX_URL as a build arg for a mirror, and
# PIP_CERT (a CA bundle mounted into the build) behind a TLS-inspecting proxy.
ARG BASE=python:3.11-slim

FROM ${BASE} AS build
ARG PIP_INDEX_URL=https://pypi.org/simple
ARG PIP_CERT
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore
RUN python3 -m venv /opt/distillguard
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY policies ./policies
COPY gateway ./gateway
RUN /opt/distillguard/bin/pip install --quiet --upgrade pip \
 && /opt/distillguard/bin/pip install --quiet . \
 && /opt/distillguard/bin/gateway --version

FROM ${BASE}
ENV PATH=/opt/distillguard/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    OPENBLAS_NUM_THREADS=1 \
    NUMBA_CACHE_DIR=/tmp/numba \
    GATEWAY_LISTEN=0.0.0.0:8080 \
    GATEWAY_ADMIN_LISTEN=0.0.0.0:9090 \
    GATEWAY_POLICIES=/etc/gateway/policies
COPY --from=build /opt/distillguard /opt/distillguard
COPY policies /etc/gateway/policies
COPY LICENSE /usr/share/doc/distillguard/LICENSE
RUN useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin gateway
USER 10001
WORKDIR /tmp
EXPOSE 8080 9090
# probes the port of GATEWAY_LISTEN (a container running `mock-upstream` needs its own check)
HEALTHCHECK --interval=10s --timeout=2s --start-period=5s --retries=3 \
  CMD python3 -c "import os, urllib.request; port = os.environ['GATEWAY_LISTEN'].rpartition(':')[2]; urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=2)"
ENTRYPOINT ["gateway"]
CMD ["serve"]
