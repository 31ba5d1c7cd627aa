"""Reading the ``kubernetes`` package's model tables from source, in both generator styles."""

from __future__ import annotations

from atoll.embedded.apiserver.builtins.model_source import _parse_source, load_model, model_names

LEGACY_SOURCE = """
class V1DeploymentSpec(object):
    openapi_types = {
        'replicas': 'int',
        'selector': 'V1LabelSelector',
        'template': 'V1PodTemplateSpec',
        'volumes': 'list[V1Volume]',
        'labels': 'dict(str, str)'
    }

    attribute_map = {
        'replicas': 'replicas',
        'selector': 'selector',
        'template': 'template',
        'volumes': 'volumes',
        'labels': 'labels'
    }

    @selector.setter
    def selector(self, selector):
        if self.local_vars_configuration.client_side_validation and selector is None:  # noqa: E501
            raise ValueError("Invalid value for `selector`, must not be `None`")  # noqa: E501
        self._selector = selector
"""

MIN_READY_FIELD = (
    "    min_ready: Optional[StrictInt] = Field(default=None, validation_alias=AliasChoices("
    '"minReady", "min_ready"), serialization_alias="minReady", '
    'description="Ready for \\"this\\" long.")'
)
PYDANTIC_TEMPLATE = '''
class V1Thing(BaseModel):
    """A thing."""  # noqa: E501
{min_ready}
    name: StrictStr = Field(description="The name.")
    spec: V1ThingSpec
    openapi_types: ClassVar[Dict[str, str]] = {
        "min_ready": "int",
        "name": "str",
        "spec": "V1ThingSpec"
    }

    attribute_map: ClassVar[Dict[str, str]] = {
        "min_ready": "minReady",
        "name": "name",
        "spec": "spec"
    }
'''
PYDANTIC_SOURCE = PYDANTIC_TEMPLATE.replace("{min_ready}", MIN_READY_FIELD)


def test_legacy_generator_style() -> None:
    table = _parse_source("V1DeploymentSpec", LEGACY_SOURCE)
    assert table is not None
    assert table.types["volumes"] == "list[V1Volume]"
    assert table.types["labels"] == "dict(str, str)"
    assert table.required == frozenset({"selector"})


def test_pydantic_generator_style() -> None:
    table = _parse_source("V1Thing", PYDANTIC_SOURCE)
    assert table is not None
    assert table.types == {"minReady": "int", "name": "str", "spec": "V1ThingSpec"}
    assert table.required == frozenset({"name", "spec"})
    assert table.descriptions == {"minReady": 'Ready for "this" long.', "name": "The name."}


def test_source_without_tables() -> None:
    assert _parse_source("V1Nothing", "class V1Nothing: pass\n") is None


def test_installed_package() -> None:
    assert model_names()["V1Deployment"] == "v1_deployment"
    table = load_model("V1ObjectMeta")
    assert table is not None
    assert table.types["labels"] in ("Dict[str, str]", "dict(str, str)")
    assert load_model("V1NoSuchModel") is None
