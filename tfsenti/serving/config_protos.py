"""Message classes for the two model-server config files whose protos tensorflow-serving-api does not ship.

The pip package carries `ModelServerConfig` (models.config) but not `MonitoringConfig` (--monitoring_config_file)
nor `BatchingParameters` (--batching_parameters_file). This module declares the fields tfsenti writes, with TF
Serving's package, message and field names and types (from its documented text formats), so the files can be
built and parsed back with `google.protobuf.text_format` like the others.

Example:
    >>> from google.protobuf import text_format
    >>> config = text_format.Parse('prometheus_config { enable: true path: "/metrics" }', MonitoringConfig())
    >>> config.prometheus_config.path
    '/metrics'
    >>> text_format.Parse("num_batch_threads { value: 4 }", BatchingParameters()).num_batch_threads.value
    4
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf import wrappers_pb2  # noqa: F401  (registers google/protobuf/wrappers.proto in the pool)

_PACKAGE = "tensorflow.serving"
_FILE = "tfsenti/serving/model_server_flags.proto"  # our own file name: never clashes with TF Serving's own


def _field(name: str, number: int, kind: str, type_name: str = "", repeated: bool = False):
    field = descriptor_pb2.FieldDescriptorProto(name=name, number=number, json_name=name)
    field.type = getattr(descriptor_pb2.FieldDescriptorProto, "TYPE_" + kind)
    field.label = (descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED if repeated
                   else descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    if type_name:
        field.type_name = type_name
    return field


def _build():
    pool = descriptor_pool.Default()
    try:
        pool.FindMessageTypeByName(f"{_PACKAGE}.MonitoringConfig")
    except KeyError:
        wrapped = ".google.protobuf.Int64Value"
        proto = descriptor_pb2.FileDescriptorProto(name=_FILE, package=_PACKAGE, syntax="proto3",
                                                   dependency=["google/protobuf/wrappers.proto"])
        proto.message_type.add(name="PrometheusConfig").field.extend(
            [_field("enable", 1, "BOOL"), _field("path", 2, "STRING")])
        proto.message_type.add(name="MonitoringConfig").field.extend(
            [_field("prometheus_config", 1, "MESSAGE", f".{_PACKAGE}.PrometheusConfig")])
        proto.message_type.add(name="BatchingParameters").field.extend([
            _field("max_batch_size", 1, "MESSAGE", wrapped),
            _field("batch_timeout_micros", 2, "MESSAGE", wrapped),
            _field("max_enqueued_batches", 3, "MESSAGE", wrapped),
            _field("num_batch_threads", 4, "MESSAGE", wrapped),
            _field("thread_pool_name", 5, "MESSAGE", ".google.protobuf.StringValue"),
            _field("allowed_batch_sizes", 6, "INT64", repeated=True),
            _field("pad_variable_length_inputs", 7, "BOOL"),
        ])
        pool.Add(proto)
    return tuple(message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.{name}"))
                 for name in ("PrometheusConfig", "MonitoringConfig", "BatchingParameters"))


PrometheusConfig, MonitoringConfig, BatchingParameters = _build()
