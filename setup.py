from setuptools import find_packages, setup


def read_requirements(path):
    with open(path) as f:
        return [
            line.strip() for line in f
            if line.strip() and not line.startswith(('#', '-r'))
        ]


version = {}
with open('mtlbox/version.py') as f:
    exec(f.read(), version)

setup(
    name='mtlbox',
    version=version['__version__'],
    description='Multi-task learning toolbox for computer vision on mmengine',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mtlbox', 'mtlbox.*']),
    python_requires='>=3.10',
    install_requires=read_requirements('requirements.txt'),
    extras_require=dict(tests=['pytest']),
    license='Apache-2.0',
)
