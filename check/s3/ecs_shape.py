"""ecs_shape.py — checks ECS request bodies against AWS's own service model (botocore's
ecs/service-2.json and its parameter validator, as Debian's python3-botocore ships them).
usage: python3 ecs_shape.py < {"RunTask": {...}, "DescribeTasks": {...}, ...}
Prints one line per operation: "OPERATION ok" or "OPERATION invalid: <botocore's report>"."""
import json
import sys

import botocore.session
from botocore.validate import ParamValidator

model = botocore.session.get_session().get_service_model("ecs")
bodies = json.load(sys.stdin)
for op in sorted(bodies):
    shape = model.operation_model(op).input_shape
    report = ParamValidator().validate(bodies[op], shape)
    print(f"{op} ok" if not report.has_errors() else f"{op} invalid: {report.generate_report()}")
