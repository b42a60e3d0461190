"""Generated from reconciler/schemas/manifest.schema.json by `python -m reconciler.schema_checks.generate`
(fastjsonschema 2.22.3, as draft-07): do not edit. `validate(document)` raises
JsonSchemaValueException when the document is not valid; reconciler/schema_checks/__init__.py
says how bria uses it."""
# ruff: noqa
# fmt: off
VERSION = "2.22.3"
import re


class JsonSchemaValueException(ValueError):
    """The document does not satisfy the schema (no detail: jsonschema words the errors)."""


JsonSchemaValuesException = JsonSchemaValueException


REGEX_PATTERNS = {
    '^(emulator|https?://[^\\s/]+(/\\S*)?)$': re.compile('^(emulator|https?://[^\\s/]+(/\\S*)?)\\Z'),
    '^[A-Za-z_][A-Za-z0-9_]*$': re.compile('^[A-Za-z_][A-Za-z0-9_]*\\Z'),
    '\\{name\\}': re.compile('\\{name\\}'),
    '^(project|dataset|model)\\.[a-z][a-z0-9_]{0,62}$': re.compile('^(project|dataset|model)\\.[a-z][a-z0-9_]{0,62}\\Z'),
    '^[a-z][a-z0-9_]{0,62}$': re.compile('^[a-z][a-z0-9_]{0,62}\\Z')
}


class Decimal:
    """Stands in for decimal.Decimal: no document holds one (JSON and YAML make none)."""

NoneType = type(None)

def validate(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['version']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
        data_keys = set(data.keys())
        if "version" in data_keys:
            data_keys.remove("version")
            data__version = data["version"]
            if not (isinstance(data__version, (int, float)) and not isinstance(data__version, bool) and data__version == 1):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".version must be one of [1]")
        if "api" in data_keys:
            data_keys.remove("api")
            data__api = data["api"]
            if not isinstance(data__api, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".api must be object")
            data__api_is_dict = isinstance(data__api, dict)
            if data__api_is_dict:
                data__api_keys = set(data__api.keys())
                if "endpoint" in data__api_keys:
                    data__api_keys.remove("endpoint")
                    data__api__endpoint = data__api["endpoint"]
                    if not isinstance(data__api__endpoint, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".api.endpoint must be string")
                    if isinstance(data__api__endpoint, str):
                        if not REGEX_PATTERNS['^(emulator|https?://[^\\s/]+(/\\S*)?)$'].search(data__api__endpoint):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".api.endpoint must match pattern ^(emulator|https?://[^\\s/]+(/\\S*)?)$")
                if "emulator" in data__api_keys:
                    data__api_keys.remove("emulator")
                    data__api__emulator = data__api["emulator"]
                    if not isinstance(data__api__emulator, (dict)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".api.emulator must be object")
                    data__api__emulator_is_dict = isinstance(data__api__emulator, dict)
                    if data__api__emulator_is_dict:
                        data__api__emulator_keys = set(data__api__emulator.keys())
                        if "training_seconds" in data__api__emulator_keys:
                            data__api__emulator_keys.remove("training_seconds")
                            data__api__emulator__trainingseconds = data__api__emulator["training_seconds"]
                            if not isinstance(data__api__emulator__trainingseconds, (int, float, Decimal)) or isinstance(data__api__emulator__trainingseconds, bool):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".api.emulator.training_seconds must be number")
                            if isinstance(data__api__emulator__trainingseconds, (int, float, Decimal)) and not isinstance(data__api__emulator__trainingseconds, bool):
                                if data__api__emulator__trainingseconds < 0:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".api.emulator.training_seconds must be bigger than or equal to 0")
                        if "dialect" in data__api__emulator_keys:
                            data__api__emulator_keys.remove("dialect")
                            data__api__emulator__dialect = data__api__emulator["dialect"]
                            if not (isinstance(data__api__emulator__dialect, str) and data__api__emulator__dialect == 'legacy' or isinstance(data__api__emulator__dialect, str) and data__api__emulator__dialect == 'mixed' or isinstance(data__api__emulator__dialect, str) and data__api__emulator__dialect == 'fibo'):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".api.emulator.dialect must be one of ['legacy', 'mixed', 'fibo']")
                        if data__api__emulator_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".api.emulator must not contain "+str(data__api__emulator_keys)+" properties")
                if "dialect" in data__api_keys:
                    data__api_keys.remove("dialect")
                    data__api__dialect = data__api["dialect"]
                    if not (isinstance(data__api__dialect, str) and data__api__dialect == 'legacy' or isinstance(data__api__dialect, str) and data__api__dialect == 'mixed' or isinstance(data__api__dialect, str) and data__api__dialect == 'fibo'):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".api.dialect must be one of ['legacy', 'mixed', 'fibo']")
                if data__api_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".api must not contain "+str(data__api_keys)+" properties")
        if "state" in data_keys:
            data_keys.remove("state")
            data__state = data["state"]
            if not isinstance(data__state, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".state must be object")
            data__state_is_dict = isinstance(data__state, dict)
            if data__state_is_dict:
                data__state_keys = set(data__state.keys())
                if "backend" in data__state_keys:
                    data__state_keys.remove("backend")
                    data__state__backend = data__state["backend"]
                    if not (isinstance(data__state__backend, str) and data__state__backend == 'local' or isinstance(data__state__backend, str) and data__state__backend == 'postgres'):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".state.backend must be one of ['local', 'postgres']")
                if "path" in data__state_keys:
                    data__state_keys.remove("path")
                    data__state__path = data__state["path"]
                    if not isinstance(data__state__path, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".state.path must be string")
                    if isinstance(data__state__path, str):
                        data__state__path_len = len(data__state__path)
                        if data__state__path_len < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".state.path must be longer than or equal to 1 characters")
                if "dsn_env" in data__state_keys:
                    data__state_keys.remove("dsn_env")
                    data__state__dsnenv = data__state["dsn_env"]
                    if not isinstance(data__state__dsnenv, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".state.dsn_env must be string")
                    if isinstance(data__state__dsnenv, str):
                        if not REGEX_PATTERNS['^[A-Za-z_][A-Za-z0-9_]*$'].search(data__state__dsnenv):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".state.dsn_env must match pattern ^[A-Za-z_][A-Za-z0-9_]*$")
                if "workspace" in data__state_keys:
                    data__state_keys.remove("workspace")
                    data__state__workspace = data__state["workspace"]
                    if not isinstance(data__state__workspace, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".state.workspace must be string")
                    if isinstance(data__state__workspace, str):
                        data__state__workspace_len = len(data__state__workspace)
                        if data__state__workspace_len < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".state.workspace must be longer than or equal to 1 characters")
                if data__state_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".state must not contain "+str(data__state_keys)+" properties")
        if "projects" in data_keys:
            data_keys.remove("projects")
            data__projects = data["projects"]
            if not isinstance(data__projects, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".projects must be object")
            data__projects_is_dict = isinstance(data__projects, dict)
            if data__projects_is_dict:
                data__projects_keys = set(data__projects.keys())
                for data__projects_key in data__projects_keys:
                    if data__projects_key not in []:
                        data__projects_value = data__projects.get(data__projects_key)
                        validate____defs_project(data__projects_value, custom_formats, (name_prefix or "data") + ".projects.{data__projects_key}".format(**locals()))
                data__projects_len = len(data__projects)
                if data__projects_len != 0:
                    data__projects_property_names = True
                    for data__projects_key in data__projects:
                        try:
                            validate____defs_key(data__projects_key, custom_formats, (name_prefix or "data") + ".projects")
                        except (JsonSchemaValueException, JsonSchemaValuesException):
                            data__projects_property_names = False
                    if not data__projects_property_names:
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".projects must be named by propertyName definition")
        if "datasets" in data_keys:
            data_keys.remove("datasets")
            data__datasets = data["datasets"]
            if not isinstance(data__datasets, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".datasets must be object")
            data__datasets_is_dict = isinstance(data__datasets, dict)
            if data__datasets_is_dict:
                data__datasets_keys = set(data__datasets.keys())
                for data__datasets_key in data__datasets_keys:
                    if data__datasets_key not in []:
                        data__datasets_value = data__datasets.get(data__datasets_key)
                        validate____defs_dataset(data__datasets_value, custom_formats, (name_prefix or "data") + ".datasets.{data__datasets_key}".format(**locals()))
                data__datasets_len = len(data__datasets)
                if data__datasets_len != 0:
                    data__datasets_property_names = True
                    for data__datasets_key in data__datasets:
                        try:
                            validate____defs_key(data__datasets_key, custom_formats, (name_prefix or "data") + ".datasets")
                        except (JsonSchemaValueException, JsonSchemaValuesException):
                            data__datasets_property_names = False
                    if not data__datasets_property_names:
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".datasets must be named by propertyName definition")
        if "models" in data_keys:
            data_keys.remove("models")
            data__models = data["models"]
            if not isinstance(data__models, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".models must be object")
            data__models_is_dict = isinstance(data__models, dict)
            if data__models_is_dict:
                data__models_keys = set(data__models.keys())
                for data__models_key in data__models_keys:
                    if data__models_key not in []:
                        data__models_value = data__models.get(data__models_key)
                        validate____defs_model(data__models_value, custom_formats, (name_prefix or "data") + ".models.{data__models_key}".format(**locals()))
                data__models_len = len(data__models)
                if data__models_len != 0:
                    data__models_property_names = True
                    for data__models_key in data__models:
                        try:
                            validate____defs_key(data__models_key, custom_formats, (name_prefix or "data") + ".models")
                        except (JsonSchemaValueException, JsonSchemaValuesException):
                            data__models_property_names = False
                    if not data__models_property_names:
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".models must be named by propertyName definition")
        if "naming" in data_keys:
            data_keys.remove("naming")
            data__naming = data["naming"]
            if not isinstance(data__naming, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".naming must be object")
            data__naming_is_dict = isinstance(data__naming, dict)
            if data__naming_is_dict:
                data__naming_keys = set(data__naming.keys())
                if "versions" in data__naming_keys:
                    data__naming_keys.remove("versions")
                    data__naming__versions = data__naming["versions"]
                    if not isinstance(data__naming__versions, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".naming.versions must be string")
                    if isinstance(data__naming__versions, str):
                        data__naming__versions_len = len(data__naming__versions)
                        if data__naming__versions_len < 6:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".naming.versions must be longer than or equal to 6 characters")
                        if data__naming__versions_len > 100:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".naming.versions must be shorter than or equal to 100 characters")
                        if not REGEX_PATTERNS['\\{name\\}'].search(data__naming__versions):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".naming.versions must match pattern \\{name\\}")
                if data__naming_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".naming must not contain "+str(data__naming_keys)+" properties")
        if "moved" in data_keys:
            data_keys.remove("moved")
            data__moved = data["moved"]
            if not isinstance(data__moved, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".moved must be array")
            data__moved_is_list = isinstance(data__moved, (list, tuple))
            if data__moved_is_list:
                data__moved_len = len(data__moved)
                for data__moved_x, data__moved_item in enumerate(data__moved):
                    if not isinstance(data__moved_item, (dict)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".moved[{data__moved_x}]".format(**locals()) + " must be object")
                    data__moved_item_is_dict = isinstance(data__moved_item, dict)
                    if data__moved_item_is_dict:
                        data__moved_item__missing_keys = set(['from', 'to']) - data__moved_item.keys()
                        if data__moved_item__missing_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".moved[{data__moved_x}]".format(**locals()) + " must contain ")
                        data__moved_item_keys = set(data__moved_item.keys())
                        if "from" in data__moved_item_keys:
                            data__moved_item_keys.remove("from")
                            data__moved_item__from = data__moved_item["from"]
                            validate____defs_address(data__moved_item__from, custom_formats, (name_prefix or "data") + ".moved[{data__moved_x}].from".format(**locals()))
                        if "to" in data__moved_item_keys:
                            data__moved_item_keys.remove("to")
                            data__moved_item__to = data__moved_item["to"]
                            validate____defs_address(data__moved_item__to, custom_formats, (name_prefix or "data") + ".moved[{data__moved_x}].to".format(**locals()))
                        if data__moved_item_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".moved[{data__moved_x}]".format(**locals()) + " must not contain "+str(data__moved_item_keys)+" properties")
        if "removed" in data_keys:
            data_keys.remove("removed")
            data__removed = data["removed"]
            if not isinstance(data__removed, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".removed must be array")
            data__removed_is_list = isinstance(data__removed, (list, tuple))
            if data__removed_is_list:
                data__removed_len = len(data__removed)
                for data__removed_x, data__removed_item in enumerate(data__removed):
                    if not isinstance(data__removed_item, (dict)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".removed[{data__removed_x}]".format(**locals()) + " must be object")
                    data__removed_item_is_dict = isinstance(data__removed_item, dict)
                    if data__removed_item_is_dict:
                        data__removed_item__missing_keys = set(['address', 'destroy']) - data__removed_item.keys()
                        if data__removed_item__missing_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".removed[{data__removed_x}]".format(**locals()) + " must contain ")
                        data__removed_item_keys = set(data__removed_item.keys())
                        if "address" in data__removed_item_keys:
                            data__removed_item_keys.remove("address")
                            data__removed_item__address = data__removed_item["address"]
                            validate____defs_address(data__removed_item__address, custom_formats, (name_prefix or "data") + ".removed[{data__removed_x}].address".format(**locals()))
                        if "destroy" in data__removed_item_keys:
                            data__removed_item_keys.remove("destroy")
                            data__removed_item__destroy = data__removed_item["destroy"]
                            if not isinstance(data__removed_item__destroy, (bool)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".removed[{data__removed_x}].destroy".format(**locals()) + " must be boolean")
                        if data__removed_item_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".removed[{data__removed_x}]".format(**locals()) + " must not contain "+str(data__removed_item_keys)+" properties")
        if "import" in data_keys:
            data_keys.remove("import")
            data__import = data["import"]
            if not isinstance(data__import, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".import must be array")
            data__import_is_list = isinstance(data__import, (list, tuple))
            if data__import_is_list:
                data__import_len = len(data__import)
                for data__import_x, data__import_item in enumerate(data__import):
                    if not isinstance(data__import_item, (dict)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".import[{data__import_x}]".format(**locals()) + " must be object")
                    data__import_item_is_dict = isinstance(data__import_item, dict)
                    if data__import_item_is_dict:
                        data__import_item__missing_keys = set(['to', 'id']) - data__import_item.keys()
                        if data__import_item__missing_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".import[{data__import_x}]".format(**locals()) + " must contain ")
                        data__import_item_keys = set(data__import_item.keys())
                        if "to" in data__import_item_keys:
                            data__import_item_keys.remove("to")
                            data__import_item__to = data__import_item["to"]
                            validate____defs_address(data__import_item__to, custom_formats, (name_prefix or "data") + ".import[{data__import_x}].to".format(**locals()))
                        if "id" in data__import_item_keys:
                            data__import_item_keys.remove("id")
                            data__import_item__id = data__import_item["id"]
                            if not isinstance(data__import_item__id, (int)) and not (isinstance(data__import_item__id, float) and data__import_item__id.is_integer()) or isinstance(data__import_item__id, bool):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".import[{data__import_x}].id".format(**locals()) + " must be integer")
                            if isinstance(data__import_item__id, (int, float, Decimal)) and not isinstance(data__import_item__id, bool):
                                if data__import_item__id < 1:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".import[{data__import_x}].id".format(**locals()) + " must be bigger than or equal to 1")
                        if data__import_item_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".import[{data__import_x}]".format(**locals()) + " must not contain "+str(data__import_item_keys)+" properties")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data

def validate____defs_address(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (str)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be string")
    if isinstance(data, str):
        if not REGEX_PATTERNS['^(project|dataset|model)\\.[a-z][a-z0-9_]{0,62}$'].search(data):
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must match pattern ^(project|dataset|model)\\.[a-z][a-z0-9_]{0,62}$")
    return data

def validate____defs_model(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['dataset', 'name']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
        data_keys = set(data.keys())
        if "dataset" in data_keys:
            data_keys.remove("dataset")
            data__dataset = data["dataset"]
            if not isinstance(data__dataset, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".dataset must be string")
            if isinstance(data__dataset, str):
                data__dataset_len = len(data__dataset)
                if data__dataset_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".dataset must be longer than or equal to 1 characters")
        if "name" in data_keys:
            data_keys.remove("name")
            data__name = data["name"]
            if not isinstance(data__name, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".name must be string")
            if isinstance(data__name, str):
                data__name_len = len(data__name)
                if data__name_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".name must be longer than or equal to 1 characters")
        if "description" in data_keys:
            data_keys.remove("description")
            data__description = data["description"]
            if not isinstance(data__description, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".description must be string")
        if "training_version" in data_keys:
            data_keys.remove("training_version")
            data__trainingversion = data["training_version"]
            if not (isinstance(data__trainingversion, str) and data__trainingversion == 'light' or isinstance(data__trainingversion, str) and data__trainingversion == 'max' or isinstance(data__trainingversion, str) and data__trainingversion == 'bria-2.3' or isinstance(data__trainingversion, str) and data__trainingversion == 'bria-3.2'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".training_version must be one of ['light', 'max', 'bria-2.3', 'bria-3.2']")
        if "training_mode" in data_keys:
            data_keys.remove("training_mode")
            data__trainingmode = data["training_mode"]
            if not (isinstance(data__trainingmode, str) and data__trainingmode == 'fully_automated' or isinstance(data__trainingmode, str) and data__trainingmode == 'expert'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".training_mode must be one of ['fully_automated', 'expert']")
        if "training_parameters" in data_keys:
            data_keys.remove("training_parameters")
            data__trainingparameters = data["training_parameters"]
            if not isinstance(data__trainingparameters, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".training_parameters must be object")
            data__trainingparameters_is_dict = isinstance(data__trainingparameters, dict)
            if data__trainingparameters_is_dict:
                data__trainingparameters_keys = set(data__trainingparameters.keys())
                if "learning_rate" in data__trainingparameters_keys:
                    data__trainingparameters_keys.remove("learning_rate")
                    data__trainingparameters__learningrate = data__trainingparameters["learning_rate"]
                    if not isinstance(data__trainingparameters__learningrate, (int, float, Decimal)) or isinstance(data__trainingparameters__learningrate, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".training_parameters.learning_rate must be number")
                    if isinstance(data__trainingparameters__learningrate, (int, float, Decimal)) and not isinstance(data__trainingparameters__learningrate, bool):
                        if data__trainingparameters__learningrate < 1e-06:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".training_parameters.learning_rate must be bigger than or equal to 1e-06")
                        if data__trainingparameters__learningrate > 0.001:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".training_parameters.learning_rate must be smaller than or equal to 0.001")
                if "total_training_steps" in data__trainingparameters_keys:
                    data__trainingparameters_keys.remove("total_training_steps")
                    data__trainingparameters__totaltrainingsteps = data__trainingparameters["total_training_steps"]
                    if not isinstance(data__trainingparameters__totaltrainingsteps, (int)) and not (isinstance(data__trainingparameters__totaltrainingsteps, float) and data__trainingparameters__totaltrainingsteps.is_integer()) or isinstance(data__trainingparameters__totaltrainingsteps, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".training_parameters.total_training_steps must be integer")
                    if isinstance(data__trainingparameters__totaltrainingsteps, (int, float, Decimal)) and not isinstance(data__trainingparameters__totaltrainingsteps, bool):
                        if data__trainingparameters__totaltrainingsteps < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".training_parameters.total_training_steps must be bigger than or equal to 1")
                        if data__trainingparameters__totaltrainingsteps > 5000:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".training_parameters.total_training_steps must be smaller than or equal to 5000")
                if "rank" in data__trainingparameters_keys:
                    data__trainingparameters_keys.remove("rank")
                    data__trainingparameters__rank = data__trainingparameters["rank"]
                    if not isinstance(data__trainingparameters__rank, (int)) and not (isinstance(data__trainingparameters__rank, float) and data__trainingparameters__rank.is_integer()) or isinstance(data__trainingparameters__rank, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".training_parameters.rank must be integer")
                    if isinstance(data__trainingparameters__rank, (int, float, Decimal)) and not isinstance(data__trainingparameters__rank, bool):
                        if data__trainingparameters__rank < 4:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".training_parameters.rank must be bigger than or equal to 4")
                        if data__trainingparameters__rank > 256:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".training_parameters.rank must be smaller than or equal to 256")
                if "lr_scheduler" in data__trainingparameters_keys:
                    data__trainingparameters_keys.remove("lr_scheduler")
                    data__trainingparameters__lrscheduler = data__trainingparameters["lr_scheduler"]
                    if not (isinstance(data__trainingparameters__lrscheduler, str) and data__trainingparameters__lrscheduler == 'linear' or isinstance(data__trainingparameters__lrscheduler, str) and data__trainingparameters__lrscheduler == 'cosine' or isinstance(data__trainingparameters__lrscheduler, str) and data__trainingparameters__lrscheduler == 'cosine_with_restarts' or isinstance(data__trainingparameters__lrscheduler, str) and data__trainingparameters__lrscheduler == 'polynomial' or isinstance(data__trainingparameters__lrscheduler, str) and data__trainingparameters__lrscheduler == 'constant' or isinstance(data__trainingparameters__lrscheduler, str) and data__trainingparameters__lrscheduler == 'constant_with_warmup'):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".training_parameters.lr_scheduler must be one of ['linear', 'cosine', 'cosine_with_restarts', 'polynomial', 'constant', 'constant_with_warmup']")
                if "checkpoint_interval" in data__trainingparameters_keys:
                    data__trainingparameters_keys.remove("checkpoint_interval")
                    data__trainingparameters__checkpointinterval = data__trainingparameters["checkpoint_interval"]
                    if not isinstance(data__trainingparameters__checkpointinterval, (int)) and not (isinstance(data__trainingparameters__checkpointinterval, float) and data__trainingparameters__checkpointinterval.is_integer()) or isinstance(data__trainingparameters__checkpointinterval, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".training_parameters.checkpoint_interval must be integer")
                    if isinstance(data__trainingparameters__checkpointinterval, (int, float, Decimal)) and not isinstance(data__trainingparameters__checkpointinterval, bool):
                        if data__trainingparameters__checkpointinterval < 100:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".training_parameters.checkpoint_interval must be bigger than or equal to 100")
                if "lr_warmup_steps" in data__trainingparameters_keys:
                    data__trainingparameters_keys.remove("lr_warmup_steps")
                    data__trainingparameters__lrwarmupsteps = data__trainingparameters["lr_warmup_steps"]
                    if not isinstance(data__trainingparameters__lrwarmupsteps, (int)) and not (isinstance(data__trainingparameters__lrwarmupsteps, float) and data__trainingparameters__lrwarmupsteps.is_integer()) or isinstance(data__trainingparameters__lrwarmupsteps, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".training_parameters.lr_warmup_steps must be integer")
                    if isinstance(data__trainingparameters__lrwarmupsteps, (int, float, Decimal)) and not isinstance(data__trainingparameters__lrwarmupsteps, bool):
                        if data__trainingparameters__lrwarmupsteps < 0:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".training_parameters.lr_warmup_steps must be bigger than or equal to 0")
                        if data__trainingparameters__lrwarmupsteps > 1000:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".training_parameters.lr_warmup_steps must be smaller than or equal to 1000")
                if data__trainingparameters_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".training_parameters must not contain "+str(data__trainingparameters_keys)+" properties")
        if "allow_duplicate_name" in data_keys:
            data_keys.remove("allow_duplicate_name")
            data__allowduplicatename = data["allow_duplicate_name"]
            if not isinstance(data__allowduplicatename, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".allow_duplicate_name must be boolean")
        if "train" in data_keys:
            data_keys.remove("train")
            data__train = data["train"]
            if not isinstance(data__train, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".train must be boolean")
        if "samples" in data_keys:
            data_keys.remove("samples")
            data__samples = data["samples"]
            if not isinstance(data__samples, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples must be object")
            data__samples_is_dict = isinstance(data__samples, dict)
            if data__samples_is_dict:
                data__samples__missing_keys = set(['prompts']) - data__samples.keys()
                if data__samples__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples must contain ")
                data__samples_keys = set(data__samples.keys())
                if "prompts" in data__samples_keys:
                    data__samples_keys.remove("prompts")
                    data__samples__prompts = data__samples["prompts"]
                    if not isinstance(data__samples__prompts, (list, tuple)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.prompts must be array")
                    data__samples__prompts_is_list = isinstance(data__samples__prompts, (list, tuple))
                    if data__samples__prompts_is_list:
                        data__samples__prompts_len = len(data__samples__prompts)
                        if data__samples__prompts_len < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.prompts must contain at least 1 items")
                        if data__samples__prompts_len > 20:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.prompts must contain less than or equal to 20 items")
                        for data__samples__prompts_x, data__samples__prompts_item in enumerate(data__samples__prompts):
                            if not isinstance(data__samples__prompts_item, (str)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.prompts[{data__samples__prompts_x}]".format(**locals()) + " must be string")
                            if isinstance(data__samples__prompts_item, str):
                                data__samples__prompts_item_len = len(data__samples__prompts_item)
                                if data__samples__prompts_item_len < 1:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.prompts[{data__samples__prompts_x}]".format(**locals()) + " must be longer than or equal to 1 characters")
                if "seeds" in data__samples_keys:
                    data__samples_keys.remove("seeds")
                    data__samples__seeds = data__samples["seeds"]
                    if not isinstance(data__samples__seeds, (list, tuple)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.seeds must be array")
                    data__samples__seeds_is_list = isinstance(data__samples__seeds, (list, tuple))
                    if data__samples__seeds_is_list:
                        data__samples__seeds_len = len(data__samples__seeds)
                        if data__samples__seeds_len < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.seeds must contain at least 1 items")
                        if data__samples__seeds_len > 10:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.seeds must contain less than or equal to 10 items")
                        for data__samples__seeds_x, data__samples__seeds_item in enumerate(data__samples__seeds):
                            if not isinstance(data__samples__seeds_item, (int)) and not (isinstance(data__samples__seeds_item, float) and data__samples__seeds_item.is_integer()) or isinstance(data__samples__seeds_item, bool):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.seeds[{data__samples__seeds_x}]".format(**locals()) + " must be integer")
                            if isinstance(data__samples__seeds_item, (int, float, Decimal)) and not isinstance(data__samples__seeds_item, bool):
                                if data__samples__seeds_item < 0:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.seeds[{data__samples__seeds_x}]".format(**locals()) + " must be bigger than or equal to 0")
                                if data__samples__seeds_item > 4294967295:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.seeds[{data__samples__seeds_x}]".format(**locals()) + " must be smaller than or equal to 4294967295")
                if "count" in data__samples_keys:
                    data__samples_keys.remove("count")
                    data__samples__count = data__samples["count"]
                    if not isinstance(data__samples__count, (int)) and not (isinstance(data__samples__count, float) and data__samples__count.is_integer()) or isinstance(data__samples__count, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.count must be integer")
                    if isinstance(data__samples__count, (int, float, Decimal)) and not isinstance(data__samples__count, bool):
                        if data__samples__count < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.count must be bigger than or equal to 1")
                        if data__samples__count > 4:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.count must be smaller than or equal to 4")
                if "aspect_ratio" in data__samples_keys:
                    data__samples_keys.remove("aspect_ratio")
                    data__samples__aspectratio = data__samples["aspect_ratio"]
                    if not (isinstance(data__samples__aspectratio, str) and data__samples__aspectratio == '1:1' or isinstance(data__samples__aspectratio, str) and data__samples__aspectratio == '2:3' or isinstance(data__samples__aspectratio, str) and data__samples__aspectratio == '3:2' or isinstance(data__samples__aspectratio, str) and data__samples__aspectratio == '3:4' or isinstance(data__samples__aspectratio, str) and data__samples__aspectratio == '4:3' or isinstance(data__samples__aspectratio, str) and data__samples__aspectratio == '4:5' or isinstance(data__samples__aspectratio, str) and data__samples__aspectratio == '5:4' or isinstance(data__samples__aspectratio, str) and data__samples__aspectratio == '9:16' or isinstance(data__samples__aspectratio, str) and data__samples__aspectratio == '16:9'):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.aspect_ratio must be one of ['1:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9']")
                if "negative_prompt" in data__samples_keys:
                    data__samples_keys.remove("negative_prompt")
                    data__samples__negativeprompt = data__samples["negative_prompt"]
                    if not isinstance(data__samples__negativeprompt, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.negative_prompt must be string")
                if "influence" in data__samples_keys:
                    data__samples_keys.remove("influence")
                    data__samples__influence = data__samples["influence"]
                    if not isinstance(data__samples__influence, (int, float, Decimal)) or isinstance(data__samples__influence, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.influence must be number")
                    if isinstance(data__samples__influence, (int, float, Decimal)) and not isinstance(data__samples__influence, bool):
                        if data__samples__influence < 0:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.influence must be bigger than or equal to 0")
                        if data__samples__influence > 1.5:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.influence must be smaller than or equal to 1.5")
                if "steps" in data__samples_keys:
                    data__samples_keys.remove("steps")
                    data__samples__steps = data__samples["steps"]
                    if not isinstance(data__samples__steps, (int)) and not (isinstance(data__samples__steps, float) and data__samples__steps.is_integer()) or isinstance(data__samples__steps, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.steps must be integer")
                    if isinstance(data__samples__steps, (int, float, Decimal)) and not isinstance(data__samples__steps, bool):
                        if data__samples__steps < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.steps must be bigger than or equal to 1")
                        if data__samples__steps > 100:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.steps must be smaller than or equal to 100")
                if "guidance_scale" in data__samples_keys:
                    data__samples_keys.remove("guidance_scale")
                    data__samples__guidancescale = data__samples["guidance_scale"]
                    if not isinstance(data__samples__guidancescale, (int)) and not (isinstance(data__samples__guidancescale, float) and data__samples__guidancescale.is_integer()) or isinstance(data__samples__guidancescale, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.guidance_scale must be integer")
                    if isinstance(data__samples__guidancescale, (int, float, Decimal)) and not isinstance(data__samples__guidancescale, bool):
                        if data__samples__guidancescale < 3:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.guidance_scale must be bigger than or equal to 3")
                        if data__samples__guidancescale > 5:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.guidance_scale must be smaller than or equal to 5")
                if "fast" in data__samples_keys:
                    data__samples_keys.remove("fast")
                    data__samples__fast = data__samples["fast"]
                    if not isinstance(data__samples__fast, (bool)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.fast must be boolean")
                if "include_generation_prefix" in data__samples_keys:
                    data__samples_keys.remove("include_generation_prefix")
                    data__samples__includegenerationprefix = data__samples["include_generation_prefix"]
                    if not isinstance(data__samples__includegenerationprefix, (bool)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.include_generation_prefix must be boolean")
                if "content_moderation" in data__samples_keys:
                    data__samples_keys.remove("content_moderation")
                    data__samples__contentmoderation = data__samples["content_moderation"]
                    if not isinstance(data__samples__contentmoderation, (bool)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples.content_moderation must be boolean")
                if data__samples_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".samples must not contain "+str(data__samples_keys)+" properties")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data

def validate____defs_dataset(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    try:
        data_is_dict = isinstance(data, dict)
        if data_is_dict:
            data__missing_keys = set(['caption_prefix', 'visual_schema']) - data.keys()
            if data__missing_keys:
                raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
    except (JsonSchemaValueException, JsonSchemaValuesException): pass
    else:
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must NOT match a disallowed definition")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['project', 'name']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
        data_keys = set(data.keys())
        if "project" in data_keys:
            data_keys.remove("project")
            data__project = data["project"]
            if not isinstance(data__project, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".project must be string")
            if isinstance(data__project, str):
                data__project_len = len(data__project)
                if data__project_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".project must be longer than or equal to 1 characters")
        if "name" in data_keys:
            data_keys.remove("name")
            data__name = data["name"]
            if not isinstance(data__name, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".name must be string")
            if isinstance(data__name, str):
                data__name_len = len(data__name)
                if data__name_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".name must be longer than or equal to 1 characters")
        if "caption_prefix" in data_keys:
            data_keys.remove("caption_prefix")
            data__captionprefix = data["caption_prefix"]
            if not isinstance(data__captionprefix, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".caption_prefix must be string")
            if isinstance(data__captionprefix, str):
                data__captionprefix_len = len(data__captionprefix)
                if data__captionprefix_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".caption_prefix must be longer than or equal to 1 characters")
        if "increase_resolution" in data_keys:
            data_keys.remove("increase_resolution")
            data__increaseresolution = data["increase_resolution"]
            if not isinstance(data__increaseresolution, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".increase_resolution must be boolean")
        if "allow_duplicate_name" in data_keys:
            data_keys.remove("allow_duplicate_name")
            data__allowduplicatename = data["allow_duplicate_name"]
            if not isinstance(data__allowduplicatename, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".allow_duplicate_name must be boolean")
        if "complete" in data_keys:
            data_keys.remove("complete")
            data__complete = data["complete"]
            if not isinstance(data__complete, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".complete must be boolean")
        if "images" in data_keys:
            data_keys.remove("images")
            data__images = data["images"]
            if not isinstance(data__images, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".images must be array")
            data__images_is_list = isinstance(data__images, (list, tuple))
            if data__images_is_list:
                data__images_len = len(data__images)
                for data__images_x, data__images_item in enumerate(data__images):
                    validate____defs_imageentry(data__images_item, custom_formats, (name_prefix or "data") + ".images[{data__images_x}]".format(**locals()))
        if "visual_schema" in data_keys:
            data_keys.remove("visual_schema")
            data__visualschema = data["visual_schema"]
            data__visualschema_one_of_count1 = 0
            if data__visualschema_one_of_count1 < 2:
                try:
                    if not isinstance(data__visualschema, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".visual_schema must be string")
                    if isinstance(data__visualschema, str):
                        data__visualschema_len = len(data__visualschema)
                        if data__visualschema_len < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".visual_schema must be longer than or equal to 1 characters")
                    data__visualschema_one_of_count1 += 1
                except (JsonSchemaValueException, JsonSchemaValuesException): pass
            if data__visualschema_one_of_count1 < 2:
                try:
                    if not isinstance(data__visualschema, (dict)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".visual_schema must be object")
                    data__visualschema_is_dict = isinstance(data__visualschema, dict)
                    if data__visualschema_is_dict:
                        data__visualschema_len = len(data__visualschema)
                        if data__visualschema_len < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".visual_schema must contain at least 1 properties")
                    data__visualschema_one_of_count1 += 1
                except (JsonSchemaValueException, JsonSchemaValuesException): pass
            if data__visualschema_one_of_count1 != 1:
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".visual_schema must be valid exactly by one definition")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data

def validate____defs_imageentry(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_one_of_count2 = 0
    if data_one_of_count2 < 2:
        try:
            if not isinstance(data, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['folder']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
                data_keys = set(data.keys())
                if "folder" in data_keys:
                    data_keys.remove("folder")
                    data__folder = data["folder"]
                    if not isinstance(data__folder, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".folder must be string")
                    if isinstance(data__folder, str):
                        data__folder_len = len(data__folder)
                        if data__folder_len < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".folder must be longer than or equal to 1 characters")
                if "recursive" in data_keys:
                    data_keys.remove("recursive")
                    data__recursive = data["recursive"]
                    if not isinstance(data__recursive, (bool)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".recursive must be boolean")
                if data_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
            data_one_of_count2 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if data_one_of_count2 < 2:
        try:
            if not isinstance(data, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['file']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
                data_keys = set(data.keys())
                if "file" in data_keys:
                    data_keys.remove("file")
                    data__file = data["file"]
                    if not isinstance(data__file, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".file must be string")
                    if isinstance(data__file, str):
                        data__file_len = len(data__file)
                        if data__file_len < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".file must be longer than or equal to 1 characters")
                if "caption" in data_keys:
                    data_keys.remove("caption")
                    data__caption = data["caption"]
                    data__caption_one_of_count3 = 0
                    if data__caption_one_of_count3 < 2:
                        try:
                            if not isinstance(data__caption, (str)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".caption must be string")
                            if isinstance(data__caption, str):
                                data__caption_len = len(data__caption)
                                if data__caption_len < 1:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".caption must be longer than or equal to 1 characters")
                            data__caption_one_of_count3 += 1
                        except (JsonSchemaValueException, JsonSchemaValuesException): pass
                    if data__caption_one_of_count3 < 2:
                        try:
                            if not isinstance(data__caption, (dict)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".caption must be object")
                            data__caption_is_dict = isinstance(data__caption, dict)
                            if data__caption_is_dict:
                                data__caption_len = len(data__caption)
                                if data__caption_len < 1:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".caption must contain at least 1 properties")
                            data__caption_one_of_count3 += 1
                        except (JsonSchemaValueException, JsonSchemaValuesException): pass
                    if data__caption_one_of_count3 != 1:
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".caption must be valid exactly by one definition")
                if data_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
            data_one_of_count2 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if data_one_of_count2 != 1:
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be valid exactly by one definition")
    return data

def validate____defs_key(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (str)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be string")
    if isinstance(data, str):
        if not REGEX_PATTERNS['^[a-z][a-z0-9_]{0,62}$'].search(data):
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must match pattern ^[a-z][a-z0-9_]{0,62}$")
    return data

def validate____defs_project(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['name', 'ip_type', 'ip_medium']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
        data_keys = set(data.keys())
        if "name" in data_keys:
            data_keys.remove("name")
            data__name = data["name"]
            if not isinstance(data__name, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".name must be string")
            if isinstance(data__name, str):
                data__name_len = len(data__name)
                if data__name_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".name must be longer than or equal to 1 characters")
        if "description" in data_keys:
            data_keys.remove("description")
            data__description = data["description"]
            if not isinstance(data__description, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".description must be string")
        if "ip_type" in data_keys:
            data_keys.remove("ip_type")
            data__iptype = data["ip_type"]
            if not (isinstance(data__iptype, str) and data__iptype == 'defined_character' or isinstance(data__iptype, str) and data__iptype == 'stylized_scene' or isinstance(data__iptype, str) and data__iptype == 'other' or isinstance(data__iptype, str) and data__iptype == 'object_variants' or isinstance(data__iptype, str) and data__iptype == 'multi_object_set' or isinstance(data__iptype, str) and data__iptype == 'icons' or isinstance(data__iptype, str) and data__iptype == 'character_variants'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".ip_type must be one of ['defined_character', 'stylized_scene', 'other', 'object_variants', 'multi_object_set', 'icons', 'character_variants']")
        if "ip_medium" in data_keys:
            data_keys.remove("ip_medium")
            data__ipmedium = data["ip_medium"]
            if not (isinstance(data__ipmedium, str) and data__ipmedium == 'photography' or isinstance(data__ipmedium, str) and data__ipmedium == 'illustration'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".ip_medium must be one of ['photography', 'illustration']")
        if "ip_name" in data_keys:
            data_keys.remove("ip_name")
            data__ipname = data["ip_name"]
            if not isinstance(data__ipname, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".ip_name must be string")
            if isinstance(data__ipname, str):
                data__ipname_len = len(data__ipname)
                if data__ipname_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".ip_name must be longer than or equal to 1 characters")
        if "allow_duplicate_name" in data_keys:
            data_keys.remove("allow_duplicate_name")
            data__allowduplicatename = data["allow_duplicate_name"]
            if not isinstance(data__allowduplicatename, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".allow_duplicate_name must be boolean")
        if "ip_description" in data_keys:
            data_keys.remove("ip_description")
            data__ipdescription = data["ip_description"]
            if not isinstance(data__ipdescription, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".ip_description must be string")
            if isinstance(data__ipdescription, str):
                data__ipdescription_len = len(data__ipdescription)
                if data__ipdescription_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".ip_description must be longer than or equal to 1 characters")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data
