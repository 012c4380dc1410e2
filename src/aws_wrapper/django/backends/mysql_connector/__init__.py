"""``ENGINE: "aws_wrapper.django.backends.mysql_connector"``: the path of
aws-advanced-python-wrapper's Django backend, which is ``aws_wrapper.django.mysql`` here
(mysql-connector-python on wrapper connections; wrapper properties in ``OPTIONS``)."""
