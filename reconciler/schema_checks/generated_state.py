"""Generated from reconciler/schemas/state.schema.json by `python -m reconciler.schema_checks.generate`
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
    '^project\\.': re.compile('^project\\.'),
    '^dataset\\.': re.compile('^dataset\\.'),
    '^model\\.': re.compile('^model\\.'),
    '^(project|dataset|model)\\..+$': re.compile('^(project|dataset|model)\\..+\\Z'),
    '^([0-9a-f]{64}|unknown-[0-9]+)$': re.compile('^([0-9a-f]{64}|unknown-[0-9]+)\\Z')
}


class Decimal:
    """Stands in for decimal.Decimal: no document holds one (JSON and YAML make none)."""

NoneType = type(None)

def validate(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['format_version', 'lineage', 'serial', 'resources', 'journal']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
        data_keys = set(data.keys())
        if "format_version" in data_keys:
            data_keys.remove("format_version")
            data__formatversion = data["format_version"]
            if not (isinstance(data__formatversion, (int, float)) and not isinstance(data__formatversion, bool) and data__formatversion == 2 or isinstance(data__formatversion, (int, float)) and not isinstance(data__formatversion, bool) and data__formatversion == 3):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".format_version must be one of [2, 3]")
        if "lineage" in data_keys:
            data_keys.remove("lineage")
            data__lineage = data["lineage"]
            if not isinstance(data__lineage, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".lineage must be string")
            if isinstance(data__lineage, str):
                data__lineage_len = len(data__lineage)
                if data__lineage_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".lineage must be longer than or equal to 1 characters")
        if "endpoint" in data_keys:
            data_keys.remove("endpoint")
            data__endpoint = data["endpoint"]
            if not isinstance(data__endpoint, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".endpoint must be string")
            if isinstance(data__endpoint, str):
                data__endpoint_len = len(data__endpoint)
                if data__endpoint_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".endpoint must be longer than or equal to 1 characters")
        if "serial" in data_keys:
            data_keys.remove("serial")
            data__serial = data["serial"]
            if not isinstance(data__serial, (int)) and not (isinstance(data__serial, float) and data__serial.is_integer()) or isinstance(data__serial, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".serial must be integer")
            if isinstance(data__serial, (int, float, Decimal)) and not isinstance(data__serial, bool):
                if data__serial < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".serial must be bigger than or equal to 0")
        if "resources" in data_keys:
            data_keys.remove("resources")
            data__resources = data["resources"]
            if not isinstance(data__resources, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".resources must be object")
            data__resources_is_dict = isinstance(data__resources, dict)
            if data__resources_is_dict:
                data__resources_keys = set(data__resources.keys())
                for data__resources_key, data__resources_val in data__resources.items():
                    if REGEX_PATTERNS['^project\\.'].search(data__resources_key):
                        if data__resources_key in data__resources_keys:
                            data__resources_keys.remove(data__resources_key)
                        validate____defs_project(data__resources_val, custom_formats, (name_prefix or "data") + ".resources.{data__resources_key}".format(**locals()))
                    if REGEX_PATTERNS['^dataset\\.'].search(data__resources_key):
                        if data__resources_key in data__resources_keys:
                            data__resources_keys.remove(data__resources_key)
                        validate____defs_dataset(data__resources_val, custom_formats, (name_prefix or "data") + ".resources.{data__resources_key}".format(**locals()))
                    if REGEX_PATTERNS['^model\\.'].search(data__resources_key):
                        if data__resources_key in data__resources_keys:
                            data__resources_keys.remove(data__resources_key)
                        validate____defs_model(data__resources_val, custom_formats, (name_prefix or "data") + ".resources.{data__resources_key}".format(**locals()))
                data__resources_len = len(data__resources)
                if data__resources_len != 0:
                    data__resources_property_names = True
                    for data__resources_key in data__resources:
                        try:
                            if isinstance(data__resources_key, str):
                                if not REGEX_PATTERNS['^(project|dataset|model)\\..+$'].search(data__resources_key):
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".resources must match pattern ^(project|dataset|model)\\..+$")
                        except (JsonSchemaValueException, JsonSchemaValuesException):
                            data__resources_property_names = False
                    if not data__resources_property_names:
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".resources must be named by propertyName definition")
        if "refreshed_at" in data_keys:
            data_keys.remove("refreshed_at")
            data__refreshedat = data["refreshed_at"]
            if not isinstance(data__refreshedat, (str, NoneType)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".refreshed_at must be string or null")
        if "journal" in data_keys:
            data_keys.remove("journal")
            data__journal = data["journal"]
            if not isinstance(data__journal, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".journal must be array")
            data__journal_is_list = isinstance(data__journal, (list, tuple))
            if data__journal_is_list:
                data__journal_len = len(data__journal)
                for data__journal_x, data__journal_item in enumerate(data__journal):
                    validate____defs_journal_entry(data__journal_item, custom_formats, (name_prefix or "data") + ".journal[{data__journal_x}]".format(**locals()))
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data

def validate____defs_journal_entry(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['id', 'op', 'address', 'name', 'parent_id', 'detail', 'started_at']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
        data_keys = set(data.keys())
        if "id" in data_keys:
            data_keys.remove("id")
            data__id = data["id"]
            if not isinstance(data__id, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".id must be string")
        if "op" in data_keys:
            data_keys.remove("op")
            data__op = data["op"]
            if not (isinstance(data__op, str) and data__op == 'create_project' or isinstance(data__op, str) and data__op == 'create_dataset' or isinstance(data__op, str) and data__op == 'clone_dataset' or isinstance(data__op, str) and data__op == 'upload_image' or isinstance(data__op, str) and data__op == 'create_model' or isinstance(data__op, str) and data__op == 'complete_dataset' or isinstance(data__op, str) and data__op == 'start_training' or isinstance(data__op, str) and data__op == 'delete_model'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".op must be one of ['create_project', 'create_dataset', 'clone_dataset', 'upload_image', 'create_model', 'complete_dataset', 'start_training', 'delete_model']")
        if "address" in data_keys:
            data_keys.remove("address")
            data__address = data["address"]
            if not isinstance(data__address, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".address must be string")
        if "name" in data_keys:
            data_keys.remove("name")
            data__name = data["name"]
            if not isinstance(data__name, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".name must be string")
        if "parent_id" in data_keys:
            data_keys.remove("parent_id")
            data__parentid = data["parent_id"]
            if not isinstance(data__parentid, (int, NoneType)) and not (isinstance(data__parentid, float) and data__parentid.is_integer()) or isinstance(data__parentid, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".parent_id must be integer or null")
        if "detail" in data_keys:
            data_keys.remove("detail")
            data__detail = data["detail"]
            if not isinstance(data__detail, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".detail must be object")
        if "started_at" in data_keys:
            data_keys.remove("started_at")
            data__startedat = data["started_at"]
            if not isinstance(data__startedat, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".started_at must be string")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data

def validate____defs_model(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['type', 'remote_id', 'dataset', 'dataset_remote_id', 'name', 'description', 'training_version', 'training_mode', 'training_parameters', 'status', 'generation_prefix', 'superseded']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
        data_keys = set(data.keys())
        if "type" in data_keys:
            data_keys.remove("type")
            data__type = data["type"]
            if not (isinstance(data__type, str) and data__type == 'model'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".type must be one of ['model']")
        if "remote_id" in data_keys:
            data_keys.remove("remote_id")
            data__remoteid = data["remote_id"]
            validate____defs_remote_id(data__remoteid, custom_formats, (name_prefix or "data") + ".remote_id")
        if "dataset" in data_keys:
            data_keys.remove("dataset")
            data__dataset = data["dataset"]
            if not isinstance(data__dataset, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".dataset must be string")
        if "dataset_remote_id" in data_keys:
            data_keys.remove("dataset_remote_id")
            data__datasetremoteid = data["dataset_remote_id"]
            if not isinstance(data__datasetremoteid, (int)) and not (isinstance(data__datasetremoteid, float) and data__datasetremoteid.is_integer()) or isinstance(data__datasetremoteid, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".dataset_remote_id must be integer")
        if "name" in data_keys:
            data_keys.remove("name")
            data__name = data["name"]
            if not isinstance(data__name, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".name must be string")
        if "description" in data_keys:
            data_keys.remove("description")
            data__description = data["description"]
            if not isinstance(data__description, (str, NoneType)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".description must be string or null")
        if "training_version" in data_keys:
            data_keys.remove("training_version")
            data__trainingversion = data["training_version"]
            if not isinstance(data__trainingversion, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".training_version must be string")
        if "training_mode" in data_keys:
            data_keys.remove("training_mode")
            data__trainingmode = data["training_mode"]
            if not isinstance(data__trainingmode, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".training_mode must be string")
        if "training_parameters" in data_keys:
            data_keys.remove("training_parameters")
            data__trainingparameters = data["training_parameters"]
            if not isinstance(data__trainingparameters, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".training_parameters must be object")
        if "status" in data_keys:
            data_keys.remove("status")
            data__status = data["status"]
            if not (isinstance(data__status, str) and data__status == 'Created' or isinstance(data__status, str) and data__status == 'InProgress' or isinstance(data__status, str) and data__status == 'Completed' or isinstance(data__status, str) and data__status == 'Failed' or isinstance(data__status, str) and data__status == 'Stopping' or isinstance(data__status, str) and data__status == 'Stopped'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".status must be one of ['Created', 'InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped']")
        if "generation_prefix" in data_keys:
            data_keys.remove("generation_prefix")
            data__generationprefix = data["generation_prefix"]
            if not isinstance(data__generationprefix, (str, NoneType)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".generation_prefix must be string or null")
        if "superseded" in data_keys:
            data_keys.remove("superseded")
            data__superseded = data["superseded"]
            if not isinstance(data__superseded, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".superseded must be array")
            data__superseded_is_list = isinstance(data__superseded, (list, tuple))
            if data__superseded_is_list:
                data__superseded_len = len(data__superseded)
                for data__superseded_x, data__superseded_item in enumerate(data__superseded):
                    validate____defs_superseded_model(data__superseded_item, custom_formats, (name_prefix or "data") + ".superseded[{data__superseded_x}]".format(**locals()))
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data

def validate____defs_superseded_model(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['remote_id', 'dataset_remote_id', 'training_version', 'training_mode', 'status', 'reason']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
        data_keys = set(data.keys())
        if "remote_id" in data_keys:
            data_keys.remove("remote_id")
            data__remoteid = data["remote_id"]
            validate____defs_remote_id(data__remoteid, custom_formats, (name_prefix or "data") + ".remote_id")
        if "dataset_remote_id" in data_keys:
            data_keys.remove("dataset_remote_id")
            data__datasetremoteid = data["dataset_remote_id"]
            if not isinstance(data__datasetremoteid, (int)) and not (isinstance(data__datasetremoteid, float) and data__datasetremoteid.is_integer()) or isinstance(data__datasetremoteid, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".dataset_remote_id must be integer")
        if "training_version" in data_keys:
            data_keys.remove("training_version")
            data__trainingversion = data["training_version"]
            if not isinstance(data__trainingversion, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".training_version must be string")
        if "training_mode" in data_keys:
            data_keys.remove("training_mode")
            data__trainingmode = data["training_mode"]
            if not isinstance(data__trainingmode, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".training_mode must be string")
        if "status" in data_keys:
            data_keys.remove("status")
            data__status = data["status"]
            if not isinstance(data__status, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".status must be string")
        if "reason" in data_keys:
            data_keys.remove("reason")
            data__reason = data["reason"]
            if not isinstance(data__reason, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".reason must be string")
        if "generation_prefix" in data_keys:
            data_keys.remove("generation_prefix")
            data__generationprefix = data["generation_prefix"]
            if not isinstance(data__generationprefix, (str, NoneType)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".generation_prefix must be string or null")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data

def validate____defs_remote_id(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (int)) and not (isinstance(data, float) and data.is_integer()) or isinstance(data, bool):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be integer")
    return data

def validate____defs_dataset(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['type', 'project', 'pinned_prefix', 'pinned_schema', 'versions']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
        data_keys = set(data.keys())
        if "type" in data_keys:
            data_keys.remove("type")
            data__type = data["type"]
            if not (isinstance(data__type, str) and data__type == 'dataset'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".type must be one of ['dataset']")
        if "project" in data_keys:
            data_keys.remove("project")
            data__project = data["project"]
            if not isinstance(data__project, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".project must be string")
        if "pinned_prefix" in data_keys:
            data_keys.remove("pinned_prefix")
            data__pinnedprefix = data["pinned_prefix"]
            if not isinstance(data__pinnedprefix, (str, NoneType)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".pinned_prefix must be string or null")
        if "pinned_schema" in data_keys:
            data_keys.remove("pinned_schema")
            data__pinnedschema = data["pinned_schema"]
            if not isinstance(data__pinnedschema, (str, NoneType)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".pinned_schema must be string or null")
        if "versions" in data_keys:
            data_keys.remove("versions")
            data__versions = data["versions"]
            if not isinstance(data__versions, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".versions must be array")
            data__versions_is_list = isinstance(data__versions, (list, tuple))
            if data__versions_is_list:
                data__versions_len = len(data__versions)
                for data__versions_x, data__versions_item in enumerate(data__versions):
                    validate____defs_dataset_version(data__versions_item, custom_formats, (name_prefix or "data") + ".versions[{data__versions_x}]".format(**locals()))
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data

def validate____defs_dataset_version(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['remote_id', 'name', 'status', 'caption_prefix', 'visual_schema', 'images']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
        data_keys = set(data.keys())
        if "remote_id" in data_keys:
            data_keys.remove("remote_id")
            data__remoteid = data["remote_id"]
            validate____defs_remote_id(data__remoteid, custom_formats, (name_prefix or "data") + ".remote_id")
        if "name" in data_keys:
            data_keys.remove("name")
            data__name = data["name"]
            if not isinstance(data__name, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".name must be string")
        if "status" in data_keys:
            data_keys.remove("status")
            data__status = data["status"]
            if not (isinstance(data__status, str) and data__status == 'draft' or isinstance(data__status, str) and data__status == 'completed'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".status must be one of ['draft', 'completed']")
        if "caption_prefix" in data_keys:
            data_keys.remove("caption_prefix")
            data__captionprefix = data["caption_prefix"]
            if not isinstance(data__captionprefix, (str, NoneType)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".caption_prefix must be string or null")
        if "visual_schema" in data_keys:
            data_keys.remove("visual_schema")
            data__visualschema = data["visual_schema"]
            if not isinstance(data__visualschema, (str, NoneType)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".visual_schema must be string or null")
        if "images" in data_keys:
            data_keys.remove("images")
            data__images = data["images"]
            if not isinstance(data__images, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".images must be object")
            data__images_is_dict = isinstance(data__images, dict)
            if data__images_is_dict:
                data__images_keys = set(data__images.keys())
                for data__images_key in data__images_keys:
                    if data__images_key not in []:
                        data__images_value = data__images.get(data__images_key)
                        validate____defs_image(data__images_value, custom_formats, (name_prefix or "data") + ".images.{data__images_key}".format(**locals()))
                data__images_len = len(data__images)
                if data__images_len != 0:
                    data__images_property_names = True
                    for data__images_key in data__images:
                        try:
                            if isinstance(data__images_key, str):
                                if not REGEX_PATTERNS['^([0-9a-f]{64}|unknown-[0-9]+)$'].search(data__images_key):
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".images must match pattern ^([0-9a-f]{64}|unknown-[0-9]+)$")
                        except (JsonSchemaValueException, JsonSchemaValuesException):
                            data__images_property_names = False
                    if not data__images_property_names:
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".images must be named by propertyName definition")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data

def validate____defs_image(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['remote_id', 'image_name', 'caption', 'caption_source']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
        data_keys = set(data.keys())
        if "remote_id" in data_keys:
            data_keys.remove("remote_id")
            data__remoteid = data["remote_id"]
            validate____defs_remote_id(data__remoteid, custom_formats, (name_prefix or "data") + ".remote_id")
        if "image_name" in data_keys:
            data_keys.remove("image_name")
            data__imagename = data["image_name"]
            if not isinstance(data__imagename, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".image_name must be string")
        if "caption" in data_keys:
            data_keys.remove("caption")
            data__caption = data["caption"]
            if not isinstance(data__caption, (str, NoneType)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".caption must be string or null")
        if "caption_source" in data_keys:
            data_keys.remove("caption_source")
            data__captionsource = data["caption_source"]
            if not (isinstance(data__captionsource, str) and data__captionsource == 'manual' or isinstance(data__captionsource, str) and data__captionsource == 'automatic' or isinstance(data__captionsource, str) and data__captionsource == 'unknown'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".caption_source must be one of ['manual', 'automatic', 'unknown']")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data

def validate____defs_project(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['type', 'remote_id', 'applied']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
        data_keys = set(data.keys())
        if "type" in data_keys:
            data_keys.remove("type")
            data__type = data["type"]
            if not (isinstance(data__type, str) and data__type == 'project'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".type must be one of ['project']")
        if "remote_id" in data_keys:
            data_keys.remove("remote_id")
            data__remoteid = data["remote_id"]
            validate____defs_remote_id(data__remoteid, custom_formats, (name_prefix or "data") + ".remote_id")
        if "applied" in data_keys:
            data_keys.remove("applied")
            data__applied = data["applied"]
            if not isinstance(data__applied, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".applied must be object")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data
