# ruff: noqa
# mypy: ignore-errors
# Planted cases for .semgrep/insignia.yml, checked by `semgrep --test .semgrep/`: each
# `ruleid:` line must be found by that rule, each `ok:` line must not. Never imported or run.
import csv
import http.client
import os
import pickle
import random
import secrets
import socket
import subprocess
import urllib.request
from xml.dom import minidom
from xml.etree import ElementTree
from xml.parsers import expat

import defusedxml.ElementTree as SafeET
import jwt
import openpyxl
import requests
import yaml
from django.db import connection
from django.db.models.expressions import RawSQL
from django.utils.safestring import SafeString, mark_safe
from joserfc import jwt as jose_rfc_jwt

from common.spreadsheets import csv_writer
from verification import fetcher


def outbound(url, body):
    # ruleid: outbound-http-outside-fetcher
    requests.get(url, timeout=5)
    # ruleid: outbound-http-outside-fetcher
    requests.post(url, data=body, timeout=5)
    # ruleid: outbound-http-outside-fetcher
    session = requests.Session()
    # ruleid: outbound-http-outside-fetcher
    urllib.request.urlopen(url)
    # ruleid: outbound-http-outside-fetcher
    http.client.HTTPSConnection("example.org")
    # ruleid: outbound-http-outside-fetcher
    socket.create_connection(("10.0.0.1", 80))
    # ok: outbound-http-outside-fetcher
    fetcher.fetch(url)
    # ok: outbound-http-outside-fetcher
    requests.Response()
    return session


def markup(text):
    # ruleid: mark-safe
    mark_safe(text)
    # ruleid: mark-safe
    return SafeString(text)


def execution(data, command):
    # ruleid: code-execution
    eval(data)
    # ruleid: code-execution
    exec(data)
    # ruleid: code-execution
    pickle.loads(data)
    # ruleid: code-execution
    yaml.load(data, Loader=yaml.Loader)
    # ok: code-execution
    yaml.safe_load(data)
    # ok: code-execution
    yaml.load(data, Loader=yaml.BaseLoader)
    # ruleid: subprocess-shell
    subprocess.run(command, shell=True)
    # ruleid: subprocess-shell
    os.system(command)
    # ok: subprocess-shell
    subprocess.run(["git", "status"], check=True)


def tokens(token, key):
    # ruleid: jwt-decode-without-algorithms
    jwt.decode(token, key)
    # ruleid: jwt-decode-without-algorithms
    jwt.decode(token, key, algorithms=["RS256"], options={"verify_signature": False})
    # ok: jwt-decode-without-algorithms
    jwt.decode(token, key, algorithms=["RS256"])
    # ruleid: jwt-decode-without-algorithms
    jose_rfc_jwt.decode(token, key)
    # ok: jwt-decode-without-algorithms
    jose_rfc_jwt.decode(token, key, algorithms=["EdDSA"])


# ruleid: python-jose
from jose import jws

# ruleid: python-jose
import jose.jwt


def spreadsheets(stream, rows):
    # ruleid: csv-writer-outside-spreadsheets
    csv.writer(stream).writerows(rows)
    # ruleid: csv-writer-outside-spreadsheets
    csv.DictWriter(stream, fieldnames=["a"])
    # ruleid: csv-writer-outside-spreadsheets
    openpyxl.Workbook()
    # ok: csv-writer-outside-spreadsheets
    csv_writer(stream).writerows(rows)
    # ok: csv-writer-outside-spreadsheets
    csv.reader(stream)


def secrets_and_chance(items):
    # ruleid: random-module
    code = random.randint(0, 999999)
    # ruleid: random-module
    random.choice(items)
    # ok: random-module
    random.SystemRandom().choice(items)
    # ok: random-module
    secrets.token_urlsafe(16)
    return code


def sql(name, model, value):
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        # ruleid: raw-sql-string-formatting
        cursor.execute(f"SELECT * FROM badges WHERE name = '{name}'")
        # ruleid: raw-sql-string-formatting
        cursor.execute("SELECT * FROM badges WHERE name = '%s'" % name)
        # ruleid: raw-sql-string-formatting
        cursor.execute("SELECT * FROM badges WHERE name = '{}'".format(name))
        # ruleid: raw-sql-string-formatting
        cursor.execute("SELECT * FROM badges WHERE name = '" + name + "'")
        # ruleid: raw-sql-string-formatting
        cursor.execute(f"SELECT * FROM {table} WHERE name = '{name}'")
        # ruleid: raw-sql-string-formatting
        cursor.execute(f"SELECT * FROM {table} WHERE name = %s", [name])
        # ok: raw-sql-string-formatting
        cursor.execute(  # nosemgrep: raw-sql-string-formatting - a justified exception
            f"UPDATE {table} SET name = %s "  # the table name is ours
            "WHERE id = %s",
            [name, value],
        )
        # ok: raw-sql-string-formatting
        # nosemgrep: raw-sql-string-formatting - the justification may sit on the line above
        cursor.execute(f"SELECT * FROM {table} WHERE name = %s", [name])
        # ok: raw-sql-string-formatting
        cursor.execute("SELECT * FROM badges WHERE name = %s", [name])
        # ok: raw-sql-string-formatting
        cursor.execute("DROP TABLE old" + (" CASCADE" if value else ""))
    # ruleid: raw-sql-string-formatting
    model.objects.raw(f"SELECT * FROM badges WHERE name = '{name}'")
    # ruleid: raw-sql-string-formatting
    model.objects.annotate(n=RawSQL("SELECT %s" % name, []))
    # ruleid: raw-sql-string-formatting
    return model.objects.extra(where=["name = %s"], params=[name])


def xml(data):
    # ruleid: xml-without-defusedxml
    ElementTree.fromstring(data)
    # ruleid: xml-without-defusedxml
    minidom.parseString(data)
    # ruleid: xml-without-defusedxml
    expat.ParserCreate()
    # ok: xml-without-defusedxml
    SafeET.fromstring(data, forbid_dtd=True)
    # ok: xml-without-defusedxml
    return ElementTree.tostring(ElementTree.Element("svg"))


# ruleid: pyld-outside-jsonld
from pyld import jsonld

# ruleid: pyld-network-loader
jsonld.set_document_loader(jsonld.requests_document_loader(timeout=5))
