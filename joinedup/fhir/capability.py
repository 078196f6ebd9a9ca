"""The CapabilityStatement: exactly what this server supports, built from the same tables
the search and create code use, so the two cannot drift apart."""

from django.conf import settings

from joinedup.fhir.access import KINDS
from joinedup.fhir.importing import CREATABLE
from joinedup.fhir.mapping import UK_CORE, UK_CORE_TYPES
from joinedup.fhir.search import HL7, INCLUDES, PARAMETERS, Parameter


def statement(base: str, token_url: str) -> dict:
    return {
        "resourceType": "CapabilityStatement",
        "id": "joinedup",
        "status": "active",
        "date": "2026-11-23",
        "kind": "instance",
        "software": {"name": "JoinedUp"},
        "implementation": {"description": "JoinedUp FHIR R4 server", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "extension": [
                        {
                            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/"
                            "oauth-uris",
                            "extension": [{"url": "token", "valueUri": token_url}],
                        }
                    ],
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/"
                                    "restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "description": f"OAuth 2.0 client credentials at {token_url}, the client "
                    "authenticating with a signed JWT (SMART Backend Services, private_key_jwt; "
                    "see .well-known/smart-configuration) or its secret, with scopes "
                    "system/<Resource>.read, system/*.read and system/<Resource>.write. Each "
                    "client acts for one service; the student's consent decides what it sees.",
                },
                "resource": [*(_resource(name) for name in settings.FHIR_RESOURCES), GROUP],
                "compartment": ["http://hl7.org/fhir/CompartmentDefinition/patient"],
                "interaction": [{"code": "transaction"}],
                "operation": [
                    {
                        "name": "export",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                    },
                    {
                        "name": "group-export",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/"
                        "group-export",
                    },
                    {
                        "name": "patient-export",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/"
                        "patient-export",
                    },
                ],
            }
        ],
    }


# A client's own service's caseload: read, found by a search, and exported (group-export).
GROUP_PARAMETERS = {"_id": Parameter("token", f"{HL7}Resource-id", "_id")}
GROUP = {
    "type": "Group",
    "interaction": [{"code": "read"}, {"code": "search-type"}],
    "searchParam": [
        {"name": name, "definition": p.definition, "type": p.type}
        for name, p in GROUP_PARAMETERS.items()
    ],
}


def _resource(name: str) -> dict:
    interactions = ["read", "vread", "history-instance", "search-type"]
    if name in KINDS and KINDS[name].updated is not None:
        interactions.append("history-type")  # what changed since: the time of change is kept
    if name in CREATABLE:
        interactions.append("create")
    resource = {
        "type": name,
        "interaction": [{"code": code} for code in interactions],
        # meta.versionId is the digest of the content; only the current version is kept,
        # and a history holds it alone.
        "versioning": "versioned",
        "readHistory": False,
        "conditionalCreate": name in CREATABLE,
        "searchParam": [
            {"name": p, "definition": parameter.definition, "type": parameter.type}
            for p, parameter in PARAMETERS[name].items()
        ],
    }
    if "_include" in INCLUDES.get(name, ()):
        resource["searchInclude"] = [f"{name}:patient", f"{name}:subject"]
    if "_revinclude" in INCLUDES.get(name, ()):
        resource["searchRevInclude"] = [
            f"{other}:patient" for other, includes in INCLUDES.items() if "_include" in includes
        ]
    if name in UK_CORE_TYPES:
        resource["supportedProfile"] = [f"{UK_CORE}{name}"]
    if name == "Patient":
        resource["operation"] = [
            {
                "name": "everything",
                "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
            }
        ]
    return resource
